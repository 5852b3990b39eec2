"""The "Time to first audio" section of docs/benchmarks.md, from `first_audio`'s measurements."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from report import Busy, machine, nearest_rank

if TYPE_CHECKING:
    from first_audio import Measured, Timeline

TARGET_MEDIAN_MS = 10.0  # English on piper: first audio − floor
TARGET_P90_MS = 25.0
TARGET_EMBEDDED_MS = 600.0
# Other processes using more than this share of the CPU make the run noisy: said so.
BUSY_SHARE = 0.10
LANGUAGES = ("en", "zh")
NAMES = {"en": "English", "zh": "Chinese"}


def playback_waits(segments: list[tuple[float, float]]) -> list[float]:
    """How long playback waited before each later segment (0: it was there in time), had
    the client played each (arrival s, duration s) segment as it arrived."""
    waits = []
    end = segments[0][0] + segments[0][1]
    for arrival, duration in segments[1:]:
        waits.append(max(0.0, arrival - end))
        end = max(arrival, end) + duration
    return waits


def _verdict(value: float, target: float) -> str:
    return f"≤ {target:.0f} ms {'✅' if value <= target else '❌'}"


def _ms(samples: Sequence[float], scale: float = 1000) -> str:
    """Median with the spread (p10–p90) of samples in seconds (or ms with scale=1)."""
    values = [scale * s for s in samples]
    low, high = nearest_rank(values, 0.1), nearest_rank(values, 0.9)
    return f"{statistics.median(values):.0f} ({low:.0f}–{high:.0f})"


def _gap(samples: Sequence[float]) -> str:
    low, high = nearest_rank(samples, 0.1), nearest_rank(samples, 0.9)
    return f"{statistics.median(samples):+.1f} ({low:+.1f} to {high:+.1f})"


def _summary(measured: list[Measured], voices: dict[str, str], guard_ms: float = 0) -> list[str]:
    """The summary table. With a guard model of `guard_ms`, the aim is the issue's: first
    audio no later than the floor plus the guard's latency plus 10 ms, in every language."""
    by_lang = {lang: [m for m in measured if m.reply.lang == lang] for lang in LANGUAGES}
    langs = [lang for lang in LANGUAGES if by_lang[lang]]

    def row(label: str, cell: Callable[[list[Measured]], str], target: str = "—") -> str:
        cells = " | ".join(cell(by_lang[lang]) for lang in langs)
        return f"| {label} | {cells} | {target} |"

    def gaps(ms: list[Measured]) -> list[float]:
        return [g for m in ms for g in m.gaps_ms()]

    en_gaps = gaps(by_lang["en"]) if by_lang["en"] else [0.0]
    median_aim = f"English median {_verdict(statistics.median(en_gaps), TARGET_MEDIAN_MS)}"
    p90_aim = f"English {_verdict(nearest_rank(en_gaps, 0.9), TARGET_P90_MS)}"
    if guard_ms:
        aim = guard_ms + TARGET_MEDIAN_MS
        median_aim = "medians " + ", ".join(
            f"{lang} {_verdict(statistics.median(gaps(by_lang[lang])), aim)}" for lang in langs
        )
        p90_aim = "—"
    return [
        "| medians (p10–p90), ms | "
        + " | ".join(f"{NAMES[lang]} ({voices[lang]})" for lang in langs)
        + " | target |",
        "|---|" + "---|" * len(langs) + "---|",
        row("turns", lambda ms: str(sum(len(m.turns) for m in ms))),
        row(
            "**Kagura: first audio**",
            lambda ms: _ms([t.first_audio_s for m in ms for t in m.turns]),
        ),
        row("**honest floor**", lambda ms: _ms([f for m in ms for f in m.floors_s()])),
        row(
            "… clause complete at a bare client",
            lambda ms: _ms([b for m in ms for b in m.boundary_s]),
        ),
        row(
            "… synthesis alone (after a pause, as in a turn)",
            lambda ms: _ms([s for m in ms for s in m.synthesis_s]),
        ),
        row(
            "(synthesis alone, back to back)",
            lambda ms: _ms([s for m in ms for s in m.back_to_back_s]),
        ),
        row(
            "**first audio − floor**",
            lambda ms: _gap(gaps(ms)),
            median_aim,
        ),
        row(
            "(first audio − floor with the synthesis back to back)",
            lambda ms: _gap([g for m in ms for g in m.gaps_ms(back_to_back=True)]),
        ),
        row(
            "first audio − floor, p90",
            lambda ms: f"{nearest_rank(gaps(ms), 0.9):+.1f}",
            p90_aim,
        ),
    ]


# Steps to a turn's first audio: (label, Kagura's share from its timeline and first audio,
# the floor's share for the reply's round), in seconds.
Step = tuple[
    str, "Callable[[Timeline, float], float]", "Callable[[Measured, int], float] | None"
]

STEPS: list[Step] = [
    (
        "`text-input` sent → the turn starts (WebSocket, parsing, the session's turn task)",
        lambda t, _: t.started - t.sent,
        None,
    ),
    ("turn start → LLM request (history, recall, prompt)", lambda t, _: t.requested, None),
    (
        "LLM request → clause complete (Kagura: the openai SDK; floor: a bare client)",
        lambda t, _: t.clause - t.requested,
        lambda m, i: m.boundary_s[i],
    ),
    (
        "clause complete → synthesis starts (segmenter, task)",
        lambda t, _: t.synthesis_start - t.clause,
        None,
    ),
    (
        "synthesis (Kagura: in its worker thread, as the turn awaited it; floor: alone)",
        lambda t, _: t.synthesis_end - t.synthesis_start,
        lambda m, _: m.synthesis_median_s(),
    ),
    (
        "synthesis done → frame queued (the `Segment` event, WAV, base64, volumes, JSON)",
        lambda t, _: t.published - t.synthesis_end,
        None,
    ),
    (
        "frame queued → received by the client (writer task, WebSocket, the client's parsing)",
        lambda t, first_audio_s: t.sent + first_audio_s - (t.started + t.published),
        None,
    ),
]


def _step_cells(measured: list[Measured], step: Step) -> list[str]:
    _, kagura, floor = step
    ours, over = [], []
    for m in measured:
        for i, turn in enumerate(m.turns):
            if turn.timeline is not None:
                value = kagura(turn.timeline, turn.first_audio_s)
                ours.append(1000 * value)
                over.append(1000 * (value - (floor(m, i) if floor else 0.0)))
    if not ours:
        return ["?", "?", "?"]
    floors = [1000 * floor(m, i) for m in measured for i in range(len(m.turns))] if floor else []
    return [
        f"{statistics.median(ours):.1f}",
        f"{statistics.median(floors):.1f}" if floors else "—",
        f"{statistics.median(over):+.1f}",
    ]


def _breakdown(measured: list[Measured]) -> list[str]:
    lines = [
        "| step (medians, ms) | "
        + " | ".join(f"{NAMES[lang]}: Kagura | floor | over" for lang in LANGUAGES)
        + " |",
        "|---|" + "---|---|---|" * len(LANGUAGES),
    ]
    for step in STEPS:
        cells = [
            cell
            for lang in LANGUAGES
            for cell in _step_cells([m for m in measured if m.reply.lang == lang], step)
        ]
        lines.append(f"| {step[0]} | " + " | ".join(cells) + " |")
    return lines


def _reply_row(m: Measured) -> str:
    first = m.reply.first.replace("|", "\\|")
    if len(first) > 40:
        first = first[:37] + "..."
    kagura = statistics.median(t.first_audio_s for t in m.turns)
    right = sum(t.first_text == m.reply.first for t in m.turns)
    cells = [
        m.reply.lang,
        f"`{first}`" + (f" ({m.reply.kind})" if m.reply.kind else ""),
        str(m.reply.words),
        f"{1000 * statistics.median(m.boundary_s):.0f}",
        f"{1000 * m.synthesis_median_s():.0f}",
        f"{1000 * statistics.median(m.floors_s()):.0f}",
        f"{1000 * kagura:.0f}",
        f"{statistics.median(m.gaps_ms()):+.1f}",
        f"{right}/{len(m.turns)}",
        str(sum(wait > 0 for t in m.turns for wait in playback_waits(t.segments))),
    ]
    return "| " + " | ".join(cells) + " |"


def _busy_note(busy: Busy) -> str:
    busiest = busy.busiest()
    if busiest.others <= BUSY_SHARE:
        return busy.describe()
    return (
        f"**The machine was busy during this run**: other processes took up to "
        f"{100 * busiest.others:.0f}% of the CPU ({busiest.name}), so these figures carry "
        f"their noise. {busy.describe()}"
    )


def render(
    method: str,
    voices: dict[str, str],
    measured: list[Measured],
    embedded: list[float],
    busy: Busy,
    guard_ms: float = 0,
) -> str:
    """The section: `method` (how the figures were measured), then the tables."""
    waits = [w for m in measured for t in m.turns for w in playback_waits(t.segments)]
    stalled = [w for w in waits if w > 0]
    later = [
        "| **later segments that arrived after the one before had finished playing** | "
        f"{len(stalled)} of {len(waits)}"
        + (f" (longest wait {1000 * max(stalled):.0f} ms)" if stalled else "")
        + f" | 0 {'✅' if not stalled else '❌'} |"
    ]
    if embedded:
        value = 1000 * statistics.median(embedded)
        later.append(
            f"| (b) embedded SmolLM2 + piper, first audio median ({len(embedded)} turns; "
            f"p90 {1000 * nearest_rank(embedded, 0.9):.0f} ms) | {value:.0f} ms | "
            f"{_verdict(value, TARGET_EMBEDDED_MS)} |"
        )
    return "\n".join(
        [
            method,
            "",
            *_summary(measured, voices, guard_ms),
            "",
            "| measurement | value | target |",
            "|---|---|---|",
            *later,
            "",
            "**Where the time goes**, from the timeline the server logs for each turn (debug "
            "level; monotonic clock, ms from the turn's start). \"over\" is the median of "
            "Kagura's share minus the floor's, turn by turn; the medians of the steps need not "
            "add up to the median of the whole.",
            "",
            *_breakdown(measured),
            "",
            "| lang | first clause | words | clause complete (ms) | synthesis alone (ms) | "
            "floor (ms) | Kagura first audio (ms) | − floor (ms) | first audio = clause | "
            "playback waits |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *(_reply_row(m) for m in measured),
            "",
            "A playback wait is counted when a segment reaches the client after the audio before "
            "it would have finished playing, had the client played each segment as it arrived. "
            + _busy_note(busy)
            + " "
            + machine(busy.phases[0].load if busy.phases else 0.0),
        ]
    )
