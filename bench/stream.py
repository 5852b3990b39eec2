"""A simulated stream: 30 minutes of bilingual chat and a talking streamer, through a real
`kagura serve` on a scaled clock, once per pace (issue #22's co-host benchmark).

Measured from what the clients saw (`stream_run`): replies started while the streamer spoke
(aim 0), the wait of questions to the character vs plain questions vs ordinary chat (stream
seconds from arrival to the reply that answers it starting), the share of each answered, the
greetings per minute, and repeats (the same reply text twice; an idle topic twice).

Writes its section of docs/benchmarks.md. `--minutes 1` plays a slice (the test does).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from report import exit_on_sigterm, nearest_rank, write_section
from stream_run import GREETS, Seen, load, run

from kagura.config import StageConfig
from kagura.stage.events import KIND_LANES, Lane
from tests.support.stage import CHAIN_START

REPLAY = Path(__file__).resolve().parent / "data" / "stream_replay.jsonl"
TITLE = "Co-host: a simulated stream"
PACES = ("quiet", "normal", "lively")
ORDINARY = ("chatter", "emote", "spam")
TAGS = ("named", "question", "greeting", *ORDINARY, "gift", "superchat", "guard", "raid")
GREETING_PROMPT = "(Viewers just came into the stream."
TTL_SLACK_S = 2.0  # stream seconds: the announcement comes just after the turn is taken
TOPIC = re.compile(r"about this topic, in a short remark or question: «(.*?)»", re.S)


@dataclass
class Result:
    pace: str
    factor: float
    stream_s: float
    sent: Counter[str]
    answered: Counter[str]
    waits: dict[str, list[float]]  # stream seconds, by tag
    replies: int
    during_speech: list[float]  # how far into a speech stretch a reply started (wall s)
    during_hold: int  # replies started while /stage/stats said the streamer was speaking
    interrupted: int  # replies the streamer's voice stopped (barge-in)
    speech_s: float
    hold_s: float
    greetings: int
    same_reply: int
    repeated: list[str]
    missed_questions: int  # questions (named or plain) never answered
    missed_while_held: int  # of them, asked while the streamer held the floor
    same_topic: int
    topics: int
    idle: int
    dropped: dict[str, int]
    max_waiting: int
    wall_s: float


def measure(seen: Seen, pace: str, factor: float, stream_s: float) -> Result:
    starts = [t for t, m in seen.page if m == CHAIN_START]
    # Each answered event is matched to the first announced line of its viewer that holds
    # its text, after it was sent.
    # An answered event is never older than its lane's time-to-live (stream seconds): an
    # earlier line of the same words that expired is not the one answered.
    # Entries (arrivals) are greeted, not answered: they never match an announced line.
    pending = [(at, event) for at, event in seen.sent if event["tag"] in TAGS]
    sent = Counter(e["tag"] for _, e in seen.sent)
    answered: Counter[str] = Counter()
    waits: dict[str, list[float]] = {tag: [] for tag in TAGS}
    for t, message in seen.page:
        if message.get("type") != "user-input-transcription" or "user_id" not in message:
            continue
        for i, (sent_at, event) in enumerate(pending):
            same = event["user"]["id"] == message["user_id"] and event["text"] in message["text"]
            if same and 0 <= (t - sent_at) * factor <= _ttl_s(event["kind"]) + TTL_SLACK_S:
                answered[event["tag"]] += 1
                waits[event["tag"]].append((t - sent_at) * factor)
                del pending[i]
                break
    during = []
    for start in starts:
        for begun, ended, _ in seen.speech:
            if begun <= start <= ended:
                during.append(start - begun)
    holding = [(t, speaking) for t, speaking, _ in seen.holds]
    missed = [(t, e) for t, e in pending if e["tag"] in ("named", "question")]
    missed_held = sum(1 for t, _ in missed if _held_at(holding, t))
    during_hold = sum(1 for s in starts if _held_at(holding, s))
    texts = _reply_texts(seen)
    topics = [m[1] for p in seen.prompts if (m := TOPIC.search(p))]
    idle = sum(1 for p in seen.prompts if p.startswith("(No one has said anything"))
    return Result(
        pace=pace,
        factor=factor,
        stream_s=stream_s,
        sent=sent,
        answered=answered,
        waits=waits,
        replies=len(starts),
        during_speech=during,
        during_hold=during_hold,
        interrupted=sum(1 for _, m in seen.page if m.get("type") == "interrupt-signal"),
        speech_s=sum(e - b for b, e, _ in seen.speech) * factor,
        hold_s=_held_s(holding) * factor,
        greetings=sum(1 for p in seen.prompts if p.startswith(GREETING_PROMPT)),
        same_reply=len(texts) - len(set(texts)),
        repeated=[text for text, n in Counter(texts).items() if n > 1],
        missed_questions=len(missed),
        missed_while_held=missed_held,
        same_topic=len(topics) - len(set(topics)),
        topics=len(topics),
        idle=idle,
        dropped=dict(seen.stats.get("dropped", {})),
        max_waiting=max((w for _, _, w in seen.holds), default=0),
        wall_s=seen.wall_s,
    )


def _ttl_s(kind: str) -> float:
    lane = KIND_LANES.get(kind) or Lane.DANMAKU
    ttl: float = getattr(StageConfig().lanes, lane.key).ttl_s
    return ttl


def _held_at(holding: list[tuple[float, bool]], at: float) -> bool:
    """The hold as last polled before `at` and first after: held if either said so."""
    before = [s for t, s in holding if t <= at][-1:]
    after = [s for t, s in holding if t > at][:1]
    return bool(before and after and before[0] and after[0])


def _held_s(holding: list[tuple[float, bool]]) -> float:
    return sum(b[0] - a[0] for a, b in itertools.pairwise(holding) if a[1])


def _reply_texts(seen: Seen) -> list[str]:
    """Each turn's spoken text, joined."""
    texts: list[str] = []
    current: list[str] = []
    for _, message in seen.page:
        if message == CHAIN_START:
            if current:
                texts.append("".join(current))
            current = []
        elif message.get("type") == "audio":
            current.append(message["text"])
    if current:
        texts.append("".join(current))
    return texts


async def bench(replay: list[dict[str, Any]], paces: tuple[str, ...], factor: float,
                stream_s: float) -> list[Result]:  # fmt: skip
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for pace in paces:
            seen = await run(Path(tmp), replay, pace, factor)
            results.append(measure(seen, pace, factor, stream_s))
    return results


# -- report --------------------------------------------------------------------------------


def _median(values: list[float]) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.1f} s (p90 {nearest_rank(values, 0.9):.0f})"


def _share(r: Result, tags: tuple[str, ...]) -> str:
    sent = sum(r.sent[t] for t in tags)
    done = sum(r.answered[t] for t in tags)
    return f"{100 * done / sent:.0f} % ({done}/{sent})" if sent else "—"


def render(results: list[Result], load_before: float) -> str:
    first = results[0]
    minutes = first.stream_s / 60
    head = "| measurement | " + " | ".join(f"`{r.pace}`" for r in results) + " |"
    rows = [head, "|---|" + "---|" * len(results)]

    def row(label: str, cell: Any) -> None:
        rows.append(f"| {label} | " + " | ".join(cell(r) for r in results) + " |")

    row("replies started while the streamer spoke (aim 0)", lambda r: str(len(r.during_speech)))
    row("… of them once the stage had heard it (floor held)", lambda r: str(r.during_hold))
    row("replies stopped by the streamer's voice (barge-in)", lambda r: str(r.interrupted))
    row("replies (turns started)", lambda r: str(r.replies))
    row("wait, questions naming the character: median", lambda r: _median(r.waits["named"]))
    row("wait, plain questions: median", lambda r: _median(r.waits["question"]))
    row(
        "wait, ordinary chat: median",
        lambda r: _median([w for t in ORDINARY for w in r.waits[t]]),
    )
    row("answered: questions naming the character", lambda r: _share(r, ("named",)))
    row("answered: plain questions", lambda r: _share(r, ("question",)))
    row("answered: greetings (“hi”, “晚上好”)", lambda r: _share(r, ("greeting",)))
    row("answered: ordinary chat (chatter, emotes, spam)", lambda r: _share(r, ORDINARY))
    row(
        "unanswered questions (named or plain), of them asked while the streamer spoke",
        lambda r: f"{r.missed_questions}, {r.missed_while_held}",
    )
    row("answered: gifts, super chats, guards", lambda r: _share(r, ("gift", "superchat", "guard")))
    if GREETS:
        row("greeting turns per minute", lambda r: f"{r.greetings / minutes:.2f} ({r.greetings})")
    else:
        row("greeting turns per minute", lambda r: "not built yet")
    row("repeats: the same reply text twice", lambda r: str(r.same_reply))
    row(
        "repeats: an idle topic twice (idle turns, of them on a topic)",
        lambda r: f"{r.same_topic} ({r.idle}, {r.topics})",
    )
    row("most events waiting at once", lambda r: str(r.max_waiting))
    row(
        "dropped (reason: count)",
        lambda r: ", ".join(f"{k} {v}" for k, v in sorted(r.dropped.items())) or "none",
    )
    late = [s for r in results for s in r.during_speech]
    speech_share = 100 * first.speech_s / first.stream_s
    hold_share = 100 * statistics.mean(r.hold_s for r in results) / first.stream_s
    return "\n".join(
        [
            "`bench/stream.py` plays `bench/data/stream_replay.jsonl` (written by",
            "`bench/stream_replay.py`): 30 minutes of a bilingual (en + zh) stream — a",
            f"greeting burst at the start and after a raid, {first.sent['named']} questions to",
            f"the character by name, {first.sent['question']} plain questions, chatter, emotes,",
            "two hype bursts of repeated spam, gifts, 5 super chats, stable platform uids — and",
            "the streamer talking in 15–60 s stretches. It runs against a real `kagura serve`",
            "with the scripted fake LLM and TTS, once per pace, on a **scaled clock**: the",
            f"replay {first.factor:g}× faster ({first.wall_s:.0f} s of wall time a run), and",
            "every time setting of the stage divided by the same factor (lane TTLs, dedup",
            "window, the pace's gap and idle timer, greeting interval, playback margin, turn",
            "timeout; the per-minute rate limit multiplied), as are the fakes' speeds (LLM",
            f"first token {1000 * 0.8:.0f} ms and 40 tokens/s, TTS 60 ms of audio a character):",
            "the behaviour is the 30-minute stream's, compressed. All times below are stream",
            "seconds (wall × factor).",
            "",
            "The streamer speaks for real: the admin sends piper's voice as binary PCM at real",
            "time (each stretch its scaled length), heard by the server's silero VAD and Smart",
            "Turn; the speech recognizer is the fake, which returns the stretch's words; the",
            "character answers only the stretches that name it (`streamer_addressing:",
            "by_name`). The speech covers",
            f"{speech_share:.0f} % of the stream; the floor was held (polled `/stage/stats`)",
            f"{hold_share:.0f} % — more, because detecting the end of a turn takes real time,",
            "about ten times longer in stream time. A page plays each reply's audio for its",
            "length before acknowledging it. Memory is off (no regulars to recall).",
            "",
            *rows,
            "",
            "A reply counted as started during speech began between the first and the last",
            "sample of a stretch being sent"
            + (
                "; they began "
                + ", ".join(f"{1000 * s:.0f}" for s in sorted(late))
                + " ms (wall) into it, before the VAD had heard enough speech to be sure"
                " (`vad.min_speech_ms` 250 ms, real time)."
                if late
                else "."
            ),
            "Replies said twice: "
            + ("; ".join(sorted({repr(t[:80]) for r in results for t in r.repeated})) or "none")
            + ".",
            "A wait is from the event's arrival to its line being announced as its reply starts",
            "(`user-input-transcription`); answered is the share of those announced.",
            f"Machine: {os.cpu_count()} cores, shared (load average {load_before:.1f} → "
            f"{os.getloadavg()[0]:.1f} over the run).",
        ]
    )


async def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=float, default=12.0, help="stream seconds a second")
    parser.add_argument("--start", type=float, default=0.0, help="stream second to start at")
    parser.add_argument("--minutes", type=float, default=None, help="play only this long")
    parser.add_argument("--pace", choices=PACES, action="append", help="default: all three")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    length = None if args.minutes is None else 60 * args.minutes
    replay = load(REPLAY, args.start, length)
    stream_s = length or max(event["t"] for event in replay)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    results = await bench(replay, tuple(args.pace or PACES), args.factor, stream_s)
    text = render(results, load_before)
    print(text)
    print(f"(wall time {time.monotonic() - started:.0f} s)")
    if not args.no_write and args.minutes is None:
        write_section(TITLE, text)


if __name__ == "__main__":
    asyncio.run(main())
