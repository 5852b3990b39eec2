"""The embedded LLM's first token on the turn after a memory trim, against a normal turn's.

A stage-like conversation on the real embedded engines (SmolLM2 + piper, the defaults: a
512-token memory, replies of one to three sentences) answers a stream of viewer chat. Each
reply's audio "plays" in real time (the turn waits for it, as it waits for a client's
playback), which is when the trimmed prompt is read ahead. A turn counts as post-trim when
the oldest message of its prompt is not the previous turn's: its cached prefix is gone.

Runs in-process (the conversation, the runtime and the engines are the server's own) so the
first token, which no client can see, is read from the turn's report. Writes its section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import sys
import tempfile
from pathlib import Path

from kagura.config import KaguraConfig
from kagura.conversation.conversation import Conversation, TurnInput
from kagura.runtime import Runtime

sys.path.insert(0, str(Path(__file__).parent))
from report import exit_on_sigterm, machine, nearest_rank, write_section

TARGET_RATIO = 2.0
CHAT = [
    ("Alice", "hi Kagura! how is your day going?"),
    ("Bob", "what games do you like to play?"),
    ("Chen", "I just got home from work, so tired"),
    ("Dana", "can you sing something for us?"),
    ("Eve", "what is your favourite food?"),
    ("Farid", "it is raining here, what about where you are?"),
    ("Gina", "do you have any pets?"),
    ("Hiro", "tell us a fun fact please"),
    ("Ivy", "what music do you listen to?"),
    ("Jon", "good evening everyone!"),
    ("Kim", "I passed my exam today!"),
    ("Lea", "what should I cook for dinner?"),
]


async def run(turns: int, workdir: Path, verbose: bool = False) -> tuple[list[float], list[float]]:
    """First-token seconds of normal turns and of post-trim turns."""
    config = KaguraConfig.model_validate(
        {"system": {"data_dir": str(workdir)}, "conversation": {"playback_margin_s": 0}}
    )
    runtime = Runtime.from_config(config)
    await runtime.start()
    await runtime.ready()
    conversation = Conversation(
        runtime, lambda event: None, max_sentences=config.stage.reply_max_sentences
    )
    normal: list[float] = []
    trimmed: list[float] = []
    previous_oldest = None
    try:
        for index, (name, text) in enumerate(itertools.islice(itertools.cycle(CHAT), turns)):
            memory = conversation.memory.messages()
            oldest = memory[0] if memory else None
            report = await conversation.run_turn(
                TurnInput(text=text, speaker=name, platform="bilibili")
            )
            if report.first_token_s is None:
                raise RuntimeError(f"turn {index} got no reply: {report.error}")
            post_trim = previous_oldest is not None and oldest is not previous_oldest
            if index >= 2:  # the first turns fill an empty cache
                (trimmed if post_trim else normal).append(report.first_token_s)
            if verbose:
                print(
                    f"turn {index:2}: first token {1000 * report.first_token_s:5.0f} ms"
                    f"{' after a trim' if post_trim else ''}; memory {conversation.memory.tokens}"
                    f" tokens; {report.reply!r}"
                )
            previous_oldest = oldest
    finally:
        await runtime.close()
    return normal, trimmed


def render(normal: list[float], trimmed: list[float], turns: int, load: float) -> str:
    normal_p90 = 1000 * nearest_rank(normal, 0.9)
    trimmed_p90 = 1000 * nearest_rank(trimmed, 0.9) if trimmed else float("nan")
    ratio = trimmed_p90 / normal_p90
    verdict = "✅" if ratio <= TARGET_RATIO else "❌"
    return "\n".join(
        [
            f"{turns} turns of viewer chat on the embedded SmolLM2 + piper (512-token memory, "
            "replies of one to three sentences, each reply's audio played in real time). A "
            "post-trim turn is one whose prompt lost its oldest messages: its cached prefix is "
            "gone, and it is read ahead while the reply before it plays.",
            "",
            "| first token | turns | median | p90 | target |",
            "|---|---|---|---|---|",
            f"| normal turn | {len(normal)} | {1000 * statistics.median(normal):.0f} ms | "
            f"{normal_p90:.0f} ms | — |",
            f"| **after a memory trim** | {len(trimmed)} | "
            f"{1000 * statistics.median(trimmed):.0f} ms | {trimmed_p90:.0f} ms "
            f"(**{ratio:.2f}×** a normal turn's p90) | ≤ {TARGET_RATIO:.0f}× {verdict} |",
            "",
            "Before the prompt was read ahead, the post-trim first token was 1 to 2.5 s. "
            + machine(load),
        ]
    )


def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--verbose", action="store_true", help="print every turn")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        normal, trimmed = asyncio.run(run(args.turns, Path(tmp), args.verbose))
    if not trimmed:
        raise SystemExit("no memory trim happened: run more turns")
    text = render(normal, trimmed, args.turns, load_before)
    print(text)
    if not args.no_write:
        write_section("First token after a memory trim", text)


if __name__ == "__main__":
    main()
