"""The output guard against an adversarial corpus, through a real server to a stage page.

`--adversarial` replies (English and Chinese, each hiding a default-list entry in one of the
corpus's evasions, in its first, a middle or its last sentence) and `--ordinary` replies are
streamed by the scripted fake LLM to a real `kagura serve` with the default lists on; a stage
page keeps everything it receives (`safety_run`). Reported: segments withheld, blocked content
that reached the page (checked by Kagura's lists and by an independent fold, `safety_cases`),
the false-positive rate on ordinary replies with examples, per language; and the wall time.

Exits 1 when any blocked content reached the page. Writes its section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from report import exit_on_sigterm, write_section
from safety_cases import adversarial_cases, ordinary_cases
from safety_run import Outcome, play

from kagura.safety import ListGuard

TITLE = "Output guard: adversarial replies to a stage page"
EXAMPLES = 10  # false positives and leaks shown in the report


def summary(adversarial: list[Outcome], ordinary: list[Outcome]) -> dict[str, dict[str, int]]:
    """Per language ("all" too): the counts of the report's table."""
    rows: dict[str, dict[str, int]] = collections.defaultdict(collections.Counter)
    for lang in ("en", "zh", "all"):
        adv = [o for o in adversarial if lang in ("all", o.case.lang)]
        ordi = [o for o in ordinary if lang in ("all", o.case.lang)]
        rows[lang] = {
            "adversarial": len(adv),
            "withheld": sum(o.withheld for o in adv),
            "caught": sum(1 for o in adv if o.withheld and not o.leaks),
            "leaked": sum(1 for o in adv if o.leaks),
            "partial": sum(1 for o in adv if o.partial_sentence and not o.leaks),
            "ordinary": len(ordi),
            "false_positives": sum(1 for o in ordi if o.withheld),
            "ordinary_leaks": sum(1 for o in ordi if o.leaks),
            "ordinary_short": sum(1 for o in ordi if not o.withheld and not o.complete),
        }
    return rows


def leaked(outcomes: list[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.leaks]


def by_evasion(adversarial: list[Outcome]) -> str:
    """Replies and leaks per language and evasion, and per position."""
    counts: dict[tuple[str, str], list[int]] = collections.defaultdict(lambda: [0, 0])
    for o in adversarial:
        for key in ((o.case.lang, o.case.evasion), (o.case.lang, f"position: {o.case.position}")):
            counts[key][0] += 1
            counts[key][1] += bool(o.leaks)
    return "; ".join(
        f"{lang} {name} {total - bad}/{total}"
        for (lang, name), (total, bad) in sorted(counts.items())
    )


def false_positive_lines(ordinary: list[Outcome]) -> list[str]:
    """Up to `EXAMPLES` ordinary replies with a withheld segment, with what the lists matched
    in them (checked here, sentence by sentence: the server logs the rule, never the text)."""
    lists = ListGuard()
    lines = []
    for o in [o for o in ordinary if o.withheld][:EXAMPLES]:
        matches = [m for m in map(lists.check, o.case.sentences) if m is not None]
        why = ", ".join(f"{m.rule} on {m.found!r}" for m in matches) or "no list match alone"
        lines.append(f"- {o.case.text!r} — {why}")
    return lines


def leak_lines(outcomes: list[Outcome]) -> list[str]:
    return [
        f"- {o.case.lang} {o.case.evasion}, {o.case.position} sentence: page got "
        f"{o.spoken!r} (entry {o.case.entry!r})"
        for o in outcomes[:EXAMPLES]
    ]


def render(adversarial: list[Outcome], ordinary: list[Outcome], wall_s: float) -> str:
    rows = summary(adversarial, ordinary)
    table = [
        "| | adversarial replies | segments withheld | blocked content reaching the page "
        "| ordinary replies | false positives (replies with a withheld segment) |",
        "|---|---|---|---|---|---|",
    ]
    for lang in ("en", "zh", "all"):
        r = rows[lang]
        verdict = "✅" if r["leaked"] == 0 else "❌"
        rate = r["false_positives"] / r["ordinary"] if r["ordinary"] else 0.0
        table.append(
            f"| {lang} | {r['adversarial']} | {r['withheld']} | {r['leaked']} {verdict} "
            f"| {r['ordinary']} | {r['false_positives']} ({rate:.2%}) |"
        )
    total = rows["all"]
    leaks = leaked(adversarial) + leaked(ordinary)
    fps = false_positive_lines(ordinary)
    body = [
        "`bench/safety.py` against a real `kagura serve` with the default `safety` section",
        "(default lists on, `on_block: cut`, no guard model), `stage.batch_max: 1` and",
        "`stage.reply_max_sentences: 0`. The scripted fake LLM streams each reply at once and",
        "the fake TTS speaks it (this measures what reaches a page, not speed); a stage page",
        "(`/proxy-ws`, role=page) acknowledges playback and keeps every frame. Adversarial",
        "replies are two to four sentences, one of them hiding a default-list entry in one of",
        "the corpus's evasions (`tests/support/safety_corpus.py`: case, full width, accents,",
        "zero-width and bidi characters, look-alikes, letters spaced or dotted apart,",
        "leetspeak; for Chinese spaces, symbols, punctuation, invisible characters,",
        "traditional characters), first, in the middle or last. Ordinary replies are one to",
        "three of the corpus's ordinary lines. Every string of every frame the page got, and",
        "each turn's spoken text joined, is checked by Kagura's lists and by an independent",
        "fold (NFKC, casefold, accents, look-alikes, leetspeak, traditional → simplified,",
        "letters and digits only) counting the hidden entry.",
        "",
        *table,
        "",
        f"Replies whose page got a clause of the blocked word's sentence before the word "
        f"(its own segment, without the word): {total['partial']}. Ordinary replies with "
        f"blocked content on the page: {total['ordinary_leaks']}; cut short with nothing "
        f"withheld: {total['ordinary_short']}. Wall time {wall_s:.0f} s for "
        f"{total['adversarial'] + total['ordinary']} turns.",
        "",
        f"Caught per language and evasion (and position): {by_evasion(adversarial)}.",
        "",
        "Reproduce: `uv run python bench/safety.py` "
        f"(`--adversarial {total['adversarial']} --ordinary {total['ordinary']}`).",
    ]
    if leaks:
        body += ["", f"Blocked content that reached the page ({len(leaks)}, first {EXAMPLES}):"]
        body += leak_lines(leaks)
    body += ["", f"False positives ({total['false_positives']}, first {EXAMPLES}):"]
    body += fps or ["- none"]
    return "\n".join(body)


async def main() -> int:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adversarial", type=int, default=1200)
    parser.add_argument("--ordinary", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    batches = {
        "adversarial": adversarial_cases(args.adversarial, args.seed),
        "ordinary": ordinary_cases(args.ordinary, args.seed),
    }
    with tempfile.TemporaryDirectory() as tmp:
        results, wall_s = await play(Path(tmp), batches)
    text = render(results["adversarial"], results["ordinary"], wall_s)
    print(text)
    if not args.no_write:
        write_section(TITLE, text)
    return 1 if leaked(results["adversarial"]) + leaked(results["ordinary"]) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
