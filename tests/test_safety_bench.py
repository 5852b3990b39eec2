"""The adversarial benchmark's harness (`bench/safety.py`) on a small sample, so a change that
lets blocked content through to a stage page, or over-blocks ordinary replies, fails here
before the full benchmark is run. Real server, fake LLM and TTS, a page on `/proxy-ws`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from safety_cases import adversarial_cases, occurrences, ordinary_cases
from safety_run import play

SAMPLE = 40


def test_the_independent_fold_sees_through_the_evasions() -> None:
    assert occurrences("bitch", "oh B!TCH, chat") == 1
    assert occurrences("asshole", "Okay, aѕѕholé.") == 1
    assert occurrences("你娘咧", "哈哈，你！娘~咧！") == 1
    assert occurrences("乳头", "你真是乳頭啊") == 1
    assert occurrences("🖕", "hi 🖕") == 1
    assert occurrences("ass", "grapes") == 0


async def test_no_blocked_word_reaches_the_page(tmp_path: Path) -> None:
    results, _ = await play(tmp_path, {"adversarial": adversarial_cases(SAMPLE)})
    adversarial = results["adversarial"]
    assert len(adversarial) == SAMPLE
    assert [(o.case.text, o.spoken, o.leaks) for o in adversarial if o.leaks] == []
    assert [o.case.text for o in adversarial if not o.withheld] == []


async def test_ordinary_replies_reach_the_page_whole(tmp_path: Path) -> None:
    results, _ = await play(tmp_path, {"ordinary": ordinary_cases(SAMPLE)})
    ordinary = results["ordinary"]
    assert len(ordinary) == SAMPLE
    assert [(o.case.text, o.leaks) for o in ordinary if o.leaks] == []
    assert [o.case.text for o in ordinary if o.withheld] == []
    assert [(o.case.text, o.spoken) for o in ordinary if not o.complete] == []
