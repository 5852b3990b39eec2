"""What the embedded demo model (SmolLM2-135M) answers, before and after its tuning.

Forty viewer messages (`bench/data/embedded_replies.json`: 28 English, 12 Chinese) are sent
to a real `kagura serve` on `/client-ws`, each in a fresh session (so no reply leans on the
one before), and the reply is read from the `audio` messages' text, as a page shows it. Two
servers, one after the other in the same run, so the machine is the same:

- before: `llm.smollm2.demo_tuning` off and the sampling the engine had before it
  (llm.temperature 0.7, llama.cpp's top_k 40 and min_p 0.05): the character's prompt alone;
- after: the defaults (`kagura.conversation.embedded`: rules and example turns, at most
  three sentences, the English-only line; temperature 0.3, top_k 20, min_p 0.1).

Measured per arm: reply length in sentences (mean, max), the share of replies that mention
what was asked (one of the message's keywords), invented links, @handles and hashtags, and
the share of Chinese messages answered with the English-only line. espeak-ng speaks (the
voice is not measured; piper would only take CPU from the model). Writes its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from report import Busy, exit_on_sigterm, machine, write_section

from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

DATA = Path(__file__).parent / "data" / "embedded_replies.json"
TURN_TIMEOUT_S = 180  # two shared cores: a long untuned reply can take a while
BASE: dict[str, Any] = {
    "tts": {"provider": "espeak"},
    "memory": {"enabled": False},
    "conversation": {"playback_margin_s": 0.2},
    "llm": {"first_token_timeout_s": 60},
}
# The engine's sampling before the tuning: llm.temperature, llama-cpp-python's defaults.
BEFORE = {"demo_tuning": False, "temperature": 0.7, "top_k": 40, "min_p": 0.05}
ARMS: dict[str, dict[str, Any]] = {"before": BEFORE, "after": {}}

SENTENCE_END = re.compile(r"[.!?。！？…]+|\n+")
URL = re.compile(r"https?://|www\.|\b[\w-]+\.(?:com|tv|net|org|io|gg|ly)\b", re.I)
HANDLE = re.compile(r"(?<![\w@])@\w+")
HASHTAG = re.compile(r"(?<![\w&#])#[^\W\d_]\w*")
ENGLISH_ONLY = re.compile(r"only speak English", re.I)


@dataclass(frozen=True)
class Message:
    lang: str
    text: str
    keywords: tuple[str, ...]


@dataclass
class Reply:
    message: Message
    text: str
    seconds: float

    @property
    def sentences(self) -> int:
        return sum(1 for part in SENTENCE_END.split(self.text) if any(c.isalnum() for c in part))

    @property
    def on_topic(self) -> bool:
        return any(
            re.search(rf"\b{re.escape(word)}(?:s|es)?\b", self.text, re.I)
            for word in self.message.keywords
        )

    @property
    def inventions(self) -> int:
        return sum(len(p.findall(self.text)) for p in (URL, HANDLE, HASHTAG))

    @property
    def english_only(self) -> bool:
        return bool(ENGLISH_ONLY.search(self.text))


@dataclass
class Arm:
    name: str
    replies: list[Reply] = field(default_factory=list)


def load() -> list[Message]:
    rows = json.loads(DATA.read_text("utf-8"))["messages"]
    return [Message(row["lang"], row["text"], tuple(row["keywords"])) for row in rows]


async def ask(server: KaguraProcess, message: Message) -> Reply:
    """One message in a fresh session: the reply as the page shows it."""
    async with ProtocolClient(server.ws_url) as client:
        await client.connect_sequence()
        started = time.perf_counter()
        seen = await client.turn(message.text, timeout=TURN_TIMEOUT_S)
    errors = [m["message"] for m in seen if m["type"] == "error"]
    if errors:
        raise RuntimeError(f"{message.text!r}: {errors}")
    text = " ".join(
        m["display_text"]["text"] for m in seen if m["type"] == "audio" and m.get("display_text")
    )
    return Reply(message, " ".join(text.split()), time.perf_counter() - started)


async def measure(workdir: Path, messages: list[Message], busy: Busy) -> list[Arm]:
    arms = []
    for name, smollm2 in ARMS.items():
        config = json.loads(json.dumps(BASE))
        config["llm"]["smollm2"] = smollm2
        arm = Arm(name)
        with KaguraProcess(workdir / name, config) as server:
            assert server.process is not None
            await ask(server, Message("en", "Hello!", ()))  # the model loads: not measured
            busy.begin(name, [server.process.pid])
            for message in messages:
                arm.replies.append(await ask(server, message))
                print(f"[{name}] {message.text} -> {arm.replies[-1].text}", flush=True)
            busy.end()
        arms.append(arm)
    return arms


def figures(arm: Arm) -> dict[str, float]:
    replies = arm.replies
    chinese = [r for r in replies if r.message.lang == "zh"]
    english = [r for r in replies if r.message.lang == "en"]
    sentences = [r.sentences for r in replies]
    return {
        "mean_sentences": statistics.mean(sentences),
        "max_sentences": max(sentences),
        "on_topic": sum(r.on_topic for r in replies) / len(replies),
        "on_topic_en": sum(r.on_topic for r in english) / len(english),
        "inventions": sum(r.inventions for r in replies),
        "english_only_zh": sum(r.english_only for r in chinese) / len(chinese),
        "seconds": statistics.median(r.seconds for r in replies),
    }


def render(arms: list[Arm], busy: Busy, load_before: float) -> str:
    rows = {arm.name: figures(arm) for arm in arms}
    n = len(arms[0].replies)
    zh = sum(r.message.lang == "zh" for r in arms[0].replies)

    def row(label: str, key: str, fmt: str) -> str:
        return f"| {label} | " + " | ".join(fmt.format(rows[a.name][key]) for a in arms) + " |"

    table = "\n".join(
        [
            "| | " + " | ".join(a.name for a in arms) + " |",
            "|---|" + "---:|" * len(arms),
            row("Reply length, mean sentences", "mean_sentences", "{:.1f}"),
            row("Reply length, max sentences", "max_sentences", "{:.0f}"),
            row("Replies that mention the topic asked (all)", "on_topic", "{:.0%}"),
            row("… of the English messages", "on_topic_en", "{:.0%}"),
            row("Invented links, @handles, hashtags (count)", "inventions", "{:.0f}"),
            row("Chinese answered with the English-only line", "english_only_zh", "{:.0%}"),
            row("Median turn, text-input to chain end (s)", "seconds", "{:.1f}"),
        ]
    )
    samples = "\n".join(
        f"- *{b.message.text}* — before: “{b.text}” — after: “{a.text}”"
        for b, a in zip(arms[0].replies[:4], arms[1].replies[:4], strict=True)
    )
    return (
        f"{n} viewer messages ({n - zh} English, {zh} Chinese, `bench/data/embedded_replies.json`)"
        " sent to a real `kagura serve` with the embedded SmolLM2-135M on `/client-ws`, each in a "
        "fresh session; the reply is the text of its `audio` messages, as a page shows it. "
        "**before**: `llm.smollm2.demo_tuning: false` and the engine's old sampling (temperature "
        "0.7, top_k 40, min_p 0.05), the character's prompt alone. **after**: the defaults — "
        "rules and example turns after the persona, at most three sentences, a fixed "
        "English-only line for messages in another script (`kagura/conversation/embedded.py`), "
        "temperature 0.3, top_k 20, min_p 0.1. Both servers in one run, one after the other.\n\n"
        f"{table}\n\n"
        "Sentences are counted at . ! ? 。 ！ ？ … and line breaks. *Mention the topic*: the reply "
        "contains one of the message's 1–3 keywords as a word (or its plural); crude — an answer "
        "naming a game counts only if it says a keyword, a Chinese message's keywords are the "
        "English words of its topic. Keyword matching favours long replies (ten sentences "
        "mention more words than two), so *before* can score higher on it; and the counter "
        "also splits at abbreviations (\"A.M.A.I\") and after a lone tag (\"[sadness].\"), so "
        "*after* can show more than the three spoken sentences the segmenter lets through. "
        "Sampling is random (no fixed seed): one run's figures, a few points either way "
        "between runs.\n\n"
        f"The first four messages:\n\n{samples}\n\n"
        f"{machine(load_before)} {busy.describe()}"
    )


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    busy = Busy()
    with tempfile.TemporaryDirectory() as tmp:
        arms = asyncio.run(measure(Path(tmp), load(), busy))
    text = render(arms, busy, load_before)
    print(text)
    if not args.no_write:
        write_section("Embedded demo model: replies before and after its tuning", text)


if __name__ == "__main__":
    main()
