"""OpenAI's moderation API (`POST {base_url}/moderations`): what to ask, how to read it.

It has no tiers: a flagged text is unsafe, named by the categories flagged true. It judges
one text without a conversation, so it gets the reply so far, this segment included.
"""

from __future__ import annotations

from typing import Any

from kagura.safety.verdict import GarbledVerdict, Verdict

EXPECTED = "moderation"


def request(model: str, reply: str) -> dict[str, Any]:
    """The moderation request for `reply`; without a model the server picks its default."""
    body: dict[str, Any] = {"input": reply}
    if model:
        body["model"] = model
    return body


def parse_moderation(body: Any) -> Verdict:
    """`{"results": [{"flagged": bool, "categories": {name: bool}, ...}]}` as a verdict."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or not results:
        raise GarbledVerdict(EXPECTED, str(body))
    flagged: list[str] = []
    unsafe = False
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("flagged"), bool):
            raise GarbledVerdict(EXPECTED, str(body))
        categories = result.get("categories", {})
        if not isinstance(categories, dict):
            raise GarbledVerdict(EXPECTED, str(body))
        if result["flagged"]:
            unsafe = True
            flagged += [name for name, on in categories.items() if on is True]
    if not unsafe:
        return Verdict("safe")
    return Verdict("unsafe", tuple(dict.fromkeys(flagged)))
