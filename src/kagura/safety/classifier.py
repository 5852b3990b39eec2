"""A safety model behind an OpenAI-compatible chat API: what to ask it, and how to read it.

Response moderation, as both models are trained for it: the user's input as the user message
and the reply so far (this segment included) as the assistant message, so the model judges
the reply in its context. Both models' chat templates wrap these two messages in their own
instructions; we send them plain.

- Qwen3Guard-Gen answers "Safety: Safe|Unsafe|Controversial", then "Categories: Violent, PII"
  (or "None"), then, for a response, "Refusal: Yes|No".
- Llama Guard (3 and 4) answers "safe", or "unsafe" and a line of categories ("S1,S10").

Anything else is a `GarbledVerdict`: a guard that answers nonsense has not said "safe".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal

from kagura.safety.verdict import GarbledVerdict, Level, Verdict

Format = Literal["qwen3guard", "llamaguard"]
# A guard's verdict is a few tokens; Qwen3Guard's, with categories and refusal, about twenty.
MAX_VERDICT_TOKENS = 64
# When nobody asked (idle talk, a canned line): Llama Guard's template wants a user turn
# before the assistant's, and both models judge a response in the light of its request.
NO_INPUT = "(nobody asked: the character speaks on its own)"

_QWEN_SAFETY = re.compile(r"^\s*safety\s*:\s*(safe|unsafe|controversial)\s*$", re.I | re.M)
_QWEN_CATEGORIES = re.compile(r"^\s*categories\s*:(.*)$", re.I | re.M)
_LLAMA_CODE = re.compile(r"s\d{1,2}", re.I)


def request(model: str, user: str | None, reply: str) -> dict[str, Any]:
    """The chat completion request that asks `model` to judge `reply` as the answer to
    `user` (None or empty: nobody asked)."""
    return {
        "model": model,
        "messages": [
            {"role": "user", "content": user or NO_INPUT},
            {"role": "assistant", "content": reply},
        ],
        "temperature": 0,
        "max_tokens": MAX_VERDICT_TOKENS,
        "stream": False,
    }


def answer_text(body: Any) -> str:
    """The generated text of a chat completion response."""
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise GarbledVerdict("chat completion", str(body)) from None
    if not isinstance(content, str):
        raise GarbledVerdict("chat completion", str(body))
    return content


def parse_qwen3guard(answer: str) -> Verdict:
    """Qwen3Guard-Gen's answer: exactly one "Safety:" line, and any categories."""
    found = _QWEN_SAFETY.findall(answer)
    if len(found) != 1:
        raise GarbledVerdict("Qwen3Guard", answer)
    level: Level = found[0].lower()
    categories: tuple[str, ...] = ()
    listed = _QWEN_CATEGORIES.search(answer)
    if listed is not None:
        names = (name.strip() for name in listed.group(1).split(","))
        categories = tuple(name for name in names if name and name.lower() != "none")
    return Verdict(level, categories if level != "safe" else ())


def parse_llamaguard(answer: str) -> Verdict:
    """Llama Guard's answer: "safe"; or "unsafe" and at most one line of category codes."""
    lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
    if not lines or len(lines) > 2:
        raise GarbledVerdict("Llama Guard", answer)
    first = lines[0].lower()
    if first == "safe" and len(lines) == 1:
        return Verdict("safe")
    if first != "unsafe":
        raise GarbledVerdict("Llama Guard", answer)
    if len(lines) == 1:
        return Verdict("unsafe")
    codes = [code.strip() for code in lines[1].split(",")]
    if not all(_LLAMA_CODE.fullmatch(code) for code in codes):
        raise GarbledVerdict("Llama Guard", answer)
    return Verdict("unsafe", tuple(code.upper() for code in codes))


PARSERS: dict[Format, Callable[[str], Verdict]] = {
    "qwen3guard": parse_qwen3guard,
    "llamaguard": parse_llamaguard,
}
