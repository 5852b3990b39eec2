"""Voice to voice on the embedded stack: from the last sample of speech to the first audio.

A real `kagura serve` with every embedded engine (silero VAD, Smart Turn, faster-whisper
tiny.en, SmolLM2, piper) hears utterances a streamer might say, streamed as binary PCM at
the microphone's pace over `/client-ws` (silence keeps coming after the speech, as from an
open microphone). For each utterance:

- voice to voice: from sending the chunk that holds the last sample of speech to receiving
  the first `audio` message;
- the stages: when the transcript was ready (the server's `mic-audio-end`), and from the
  server's log how long the end-of-turn model took and how much of the ASR came after the
  turn was found over; the rest of the wait before the transcript is endpointing (the pause
  that must pass). After it: the first clause's synthesis alone (piper in this process),
  and the LLM's share is what remains;
- the floor, measured around each turn: transcribing the utterance alone (the same Whisper,
  in this process), plus the first audio of a text turn of the same words on the same
  server — what voice to voice would be if the end of speech were known the instant it
  came.

English is the target; Chinese utterances (espeak-ng's Mandarin, `cmn-latn-pinyin`) are
timed too, though tiny.en cannot transcribe them (Chinese is `asr.whisper.model: base`, or a
Whisper server: `asr.provider: openai`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kagura.config import ASRConfig, TTSConfig
from kagura.engines import asr, tts

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from report import exit_on_sigterm, machine, nearest_rank, write_section

from tests.support import speech
from tests.support.client import ProtocolClient
from tests.support.server import KaguraProcess

TARGET_MEDIAN_MS = 1000.0
AIM_MS = 800.0
CHUNK_S = 0.02
UTTERANCES = {
    "en": [
        "Hey Kagura, what do you think of this game?",
        "Can you say hello to everyone who just joined?",
        "Tell me a joke about cats.",
        "What should we play next?",
        "I just beat the boss, that was so hard!",
        "Wait, stop talking please.",
    ],
    "zh": ["大家好，今天我们玩什么游戏？", "给我讲一个笑话吧。"],
}
LOG_LINE = re.compile(
    r"turn \((\w+), [\d.]+ s of audio\) ended (\d+) ms after its pause \(model (\d+) ms\), "
    r"transcribed (\d+) ms after it ended"
)


@dataclass
class Turn:
    lang: str
    text: str
    total_s: float  # last speech sample sent → first audio
    transcript_s: float  # last speech sample sent → transcript ready
    reason: str
    decide_s: float  # pause → turn over (the end-of-turn model, or the silence fallback)
    model_s: float
    asr_after_s: float  # transcript ready after the turn was over
    tts_s: float  # the first clause synthesised alone
    floor_s: float
    heard: str


def voice(lang: str, sentence: str) -> speech.Audio:
    audio = speech.piper(sentence, varied=True) if lang == "en" else speech.mandarin(sentence)
    start, end = speech.speech_edges(audio)
    trimmed = audio[int(start * speech.RATE) : int(end * speech.RATE)]
    return speech.padded(trimmed, 0.3, 0.0)


def server_log(server: KaguraProcess) -> str:
    return " ".join(server.log_path.read_text("utf-8", "replace").split())


async def speak(client: ProtocolClient, audio: speech.Audio) -> dict[str, Any]:
    """Stream `audio`, then silence until the first audio comes back; stop the reply there."""
    seen: dict[str, Any] = {}
    reader = asyncio.create_task(_read(client, seen))
    started = time.perf_counter()
    step = int(CHUNK_S * speech.RATE)
    silence = speech.silence(CHUNK_S)
    i = 0
    while not reader.done() and i < 2000:
        chunk = audio[i * step : (i + 1) * step] if i * step < audio.size else silence
        await client.send_raw(speech.to_pcm16(chunk))
        if (i + 1) * step >= audio.size > i * step:
            seen["speech_end"] = time.perf_counter()
        i += 1
        ahead = started + i * CHUNK_S - time.perf_counter()
        if ahead > 0:
            await asyncio.sleep(ahead)
    await reader
    return seen


async def _read(client: ProtocolClient, seen: dict[str, Any]) -> None:
    while True:
        message = await client.recv(60)
        now = time.perf_counter()
        if message == {"type": "control", "text": "mic-audio-end"}:
            seen["transcript"] = now
        elif message["type"] == "user-input-transcription":
            seen["text"] = message["text"]
        elif message["type"] == "audio" and message["audio"]:
            seen["first_audio"] = now
            seen["first_text"] = message["display_text"]["text"]
            return


async def stop_reply(client: ProtocolClient, heard: str) -> None:
    await client.send({"type": "interrupt-signal", "text": heard})
    await client.recv_until("control", "conversation-chain-end", timeout=60)


async def text_first_audio(client: ProtocolClient, text: str) -> float:
    started = time.perf_counter()
    await client.send({"type": "text-input", "text": text})
    seen = await client.recv_until("audio", timeout=60)
    while not seen[-1]["audio"]:
        seen = await client.recv_until("audio", timeout=60)
    elapsed = time.perf_counter() - started
    await stop_reply(client, seen[-1]["display_text"]["text"])
    return elapsed


async def measure(
    server: KaguraProcess,
    client: ProtocolClient,
    lang: str,
    sentence: str,
    recognizer: asr.ASREngine,
    piper: tts.TTSEngine,
) -> Turn | None:
    """One voice turn and the floor around it; None when the turn was answered before the
    utterance was over (a pause inside it taken for its end)."""
    audio = voice(lang, sentence)
    before = len(LOG_LINE.findall(server_log(server)))
    seen = await speak(client, audio)
    await stop_reply(client, seen["first_text"])
    if "speech_end" not in seen:
        print(f"cut: {sentence!r} answered as {seen.get('text')!r}", flush=True)
        return None
    logged = LOG_LINE.findall(server_log(server))
    if len(logged) <= before:
        raise RuntimeError(f"no timing line in the server log for {sentence!r}")
    reason, decide_ms, model_ms, asr_after_ms = logged[-1]
    started = time.perf_counter()
    await recognizer.transcribe(audio)
    asr_alone = time.perf_counter() - started
    started = time.perf_counter()
    await piper.synthesize(re.sub(r"\[[^\]]*\]", "", seen["first_text"]).strip() or ".")
    tts_s = time.perf_counter() - started
    text_s = await text_first_audio(client, seen.get("text") or sentence)
    return Turn(
        lang=lang,
        text=sentence,
        total_s=seen["first_audio"] - seen["speech_end"],
        transcript_s=seen["transcript"] - seen["speech_end"],
        reason=reason,
        decide_s=int(decide_ms) / 1000,
        model_s=int(model_ms) / 1000,
        asr_after_s=int(asr_after_ms) / 1000,
        tts_s=tts_s,
        floor_s=asr_alone + text_s,
        heard=seen.get("text", ""),
    )


async def run(
    workdir: Path, runs: int, min_pause_ms: int | None
) -> tuple[list[Turn], dict[str, int]]:
    recognizer = asr.create(ASRConfig())
    piper = tts.create(TTSConfig())
    await recognizer.load()
    await piper.load()
    config: dict[str, Any] = {
        "system": {"log_level": "debug"},
        "conversation": {"playback_margin_s": 0.5},
    }
    if min_pause_ms is not None:
        config["voice"] = {"turn": {"min_pause_ms": min_pause_ms}}
    turns: list[Turn] = []
    cut = {lang: 0 for lang in UTTERANCES}
    with KaguraProcess(workdir / "voice", config) as server:
        async with ProtocolClient(server.ws_url) as client:
            await client.connect_sequence()
            # The first use loads Whisper, silero and Smart Turn; the first turns are slow.
            for sentence in UTTERANCES["en"][:2]:
                await measure(server, client, "en", sentence, recognizer, piper)
            for _ in range(runs):
                for lang, sentences in UTTERANCES.items():
                    for sentence in sentences:
                        turn = await measure(server, client, lang, sentence, recognizer, piper)
                        if turn is None:
                            cut[lang] += 1
                        else:
                            turns.append(turn)
                            print(turn, flush=True)
    await recognizer.aclose()
    await piper.aclose()
    return turns, cut


def _ms(values: list[float]) -> str:
    return f"{1000 * statistics.median(values):.0f}"


def render(turns: list[Turn], cut: dict[str, int], runs: int, load: float) -> str:
    en = [t for t in turns if t.lang == "en"]
    total = [t.total_s for t in en]
    median, p90 = 1000 * statistics.median(total), 1000 * nearest_rank(total, 0.9)
    verdict = "✅" if median <= TARGET_MEDIAN_MS else "❌"
    aim = "✅" if median <= AIM_MS else "—"
    rows = [
        f"| **voice to voice, median** (English, {len(en)} turns) | {median:.0f} ms | "
        f"≤ {TARGET_MEDIAN_MS:.0f} ms {verdict} (aim {AIM_MS:.0f} ms {aim}) |",
        f"| voice to voice, p90 | {p90:.0f} ms | — |",
        f"| floor, median (ASR alone + first audio of the same words typed) | "
        f"{_ms([t.floor_s for t in en])} ms | — |",
        f"| turns ended by the model / by silence | "
        f"{sum(t.reason == 'model' for t in en)} / {sum(t.reason == 'silence' for t in en)} | — |",
        f"| turns answered before the utterance was over (a pause in it taken for its end; "
        f"not timed) | {cut['en']} of {cut['en'] + len(en)} | 0 |",
    ]
    zh = [t for t in turns if t.lang == "zh"]
    if zh:
        rows.append(
            f"| voice to voice, median: Chinese (espeak-ng Mandarin; tiny.en cannot transcribe "
            f"it, timing only; {len(zh)} turns) | {_ms([t.total_s for t in zh])} ms | — |"
        )
    stage_rows = []
    for lang, group in (("en", en), ("zh", zh)):
        if not group:
            continue
        endpoint = [t.transcript_s - t.decide_s - t.asr_after_s for t in group]
        llm = [t.total_s - t.transcript_s - t.tts_s for t in group]
        cells = [
            lang,
            _ms(endpoint),
            _ms([t.model_s for t in group]),
            _ms([t.decide_s for t in group]),
            _ms([t.asr_after_s for t in group]),
            _ms(llm),
            _ms([t.tts_s for t in group]),
            _ms([t.total_s for t in group]),
            f"{1000 * nearest_rank([t.total_s for t in group], 0.9):.0f}",
            _ms([t.floor_s for t in group]),
        ]
        stage_rows.append("| " + " | ".join(cells) + " |")
    samples = [
        f"| `{t.text}` | `{t.heard[:60]}` | {1000 * t.total_s:.0f} |"
        for t in turns[: len(UTTERANCES["en"]) + len(UTTERANCES["zh"])]
    ]
    return "\n".join(
        [
            "`bench/voice.py`: a real `kagura serve` on the embedded engines (silero VAD, Smart "
            "Turn v3.2, faster-whisper tiny.en, SmolLM2, piper) hears utterances streamed as "
            f"binary PCM in {CHUNK_S * 1000:.0f} ms chunks at the microphone's pace over "
            "`/client-ws`, with silence after them as from an open microphone. **Voice to "
            "voice** runs from sending the chunk with the last sample of speech to receiving "
            "the first `audio` message. The **floor** is measured around each turn: the same "
            "Whisper transcribing the utterance alone, plus the first audio of a typed turn of "
            "the same words on the same server — voice to voice if the end of speech were "
            f"known the instant it came ({runs} rounds; English is the target, tiny.en being "
            "English-only).",
            "",
            "| measurement | value | target |",
            "|---|---|---|",
            *rows,
            "",
            "Where the time goes (medians, ms): **endpointing** is the pause that must pass "
            "before anything is decided (`vad.min_silence_ms`, plus the VAD's window), "
            "**turn over** is from that pause to the turn being found over (the Smart Turn "
            "model's run, **model**, waiting its turn for the CPU beside Whisper), **ASR after** "
            "is how much of the transcription came after that (it starts at the pause), **LLM** "
            "is from the transcript to the first clause being ready (what remains once "
            "**TTS**, the clause synthesised alone, is taken off).",
            "",
            "| lang | endpointing | model | turn over | ASR after | LLM | TTS | voice to voice "
            "| p90 | floor |",
            "|---|---|---|---|---|---|---|---|---|---|",
            *stage_rows,
            "",
            "| said | transcript | voice to voice (ms) |",
            "|---|---|---|",
            *samples,
            "",
            "The voice turns and the floor share the machine's two cores with the benchmark's "
            "own client (streaming, and Whisper and piper for the floor between turns). "
            + machine(load),
        ]
    )


async def main() -> None:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="rounds of the utterances")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--min-pause-ms", type=int, help="voice.turn.min_pause_ms (default: the config's)"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        turns, cut = await run(Path(tmp), args.runs, args.min_pause_ms)
    text = render(turns, cut, args.runs, load_before)
    print(text)
    if not args.no_write:
        write_section("Voice to voice", text)


if __name__ == "__main__":
    asyncio.run(main())
