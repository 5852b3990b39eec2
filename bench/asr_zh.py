"""Chinese speech recognition on the embedded Whisper models, and the character's name heard.

Part 1, Chinese: 20 sentences a streamer might say, spoken by espeak-ng's Mandarin
(`cmn-latn-pinyin` at 150 words a minute: see `tests/support/speech.py`), transcribed in
this process by `WhisperASR` as the server runs it: multilingual base with `language: zh`,
`chinese: simplified` and the character's names as the hint (the Chinese default config),
and tiny.en for its speed alone (it hears English only). For each utterance:

- the character error rate (CER): edit distance over the sentence's characters, punctuation
  and spaces left out, after the conversion to simplified characters;
- the real-time factor (RTF): transcription time over the utterance's length, median of
  `ROUNDS` runs;
- the floor: the same model's encoder alone on the same window, the part of a transcription
  that no decoding choice can save (its RTF);
- stock faster-whisper beside it: `WhisperModel.transcribe` with its defaults (a 30 s
  window, temperature fallback, the previous text carried), the same hint and language.

Part 2, names: English sentences naming "Kagura" (piper, its noise off and on, and espeak-ng)
transcribed by both models with no hint, with the names as faster-whisper's `hotwords`, as
its `initial_prompt`, and as Kagura's short window gives them. Counts how many transcripts
write "Kagura", and how many of the sentences without the name gained it.

Espeak-ng's Mandarin is robotic: its CER says what Whisper base makes of a machine voice,
not of a person; it is the same speech every run, so runs compare with each other.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import ctranslate2
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))  # tests.support
from report import exit_on_sigterm, machine, nearest_rank, write_section

from kagura.config import ASRConfig
from kagura.engines.asr.chinese import in_script
from kagura.engines.asr.hints import name_hint
from kagura.engines.asr.whisper import (
    MIN_WINDOW_S,
    WINDOW_FACTOR,
    WhisperASR,
    transcribe_heard,
)
from kagura.engines.asr.whisper_models import model_dir
from tests.support import speech

TITLE = "Chinese speech recognition and the character's name"
ROUNDS = 3
NAMES = ("Kagura", "神乐")
SENTENCES = [
    "大家好，欢迎来到我的直播间。",
    "今天天气很好。",
    "我们一起去吃饭吧。",
    "这是我的朋友。",
    "我想喝一杯咖啡。",
    "谢谢你的礼物。",
    "你今天过得怎么样？",
    "我正在学习中文。",
    "请给我讲一个故事。",
    "你最喜欢什么颜色？",
    "晚上好，大家好。",
    "我有一只小猫。",
    "我们下次再见。",
    "你会唱歌吗？",
    "现在几点了？",
    "我今天很开心。",
    "谢谢大家的支持。",
    "这个游戏很好玩。",
    "我们开始直播吧。",
    "你吃过晚饭了吗？",
]
NAMED = [
    "Hello Kagura, how are you today?",
    "Kagura, what is your favourite food?",
    "Thank you Kagura, that was a great song.",
    "Hey Kagura, can you sing for us?",
    "Good night Kagura, see you tomorrow.",
    "I think Kagura is the best streamer.",
]
PLAIN = [
    "Please tell me a story about a brave little dragon.",
    "What is the weather like today?",
    "I just got home from work.",
    "Can you hear me now?",
]


def cer(reference: str, heard: str) -> float:
    ref = [c for c in reference if c.isalnum()]
    hyp = [c for c in heard if c.isalnum()]
    row = list(range(len(hyp) + 1))
    for i, char in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (char != other))
    return row[-1] / max(1, len(ref))


def encoder_alone(model: Any, audio: speech.Audio) -> None:
    """The encoder on the window Kagura's short path gives this utterance."""
    window = max(MIN_WINDOW_S * speech.RATE, WINDOW_FACTOR * audio.size)
    features = model.feature_extractor(audio, padding=int(window) - audio.size)
    frames = min(features.shape[-1], int(window / 160))
    frames -= frames % 2
    batch = np.ascontiguousarray(features[np.newaxis, :, :frames], dtype=np.float32)
    model.model.encode(ctranslate2.StorageView.from_array(batch), to_cpu=False)


def stock(model: Any, audio: speech.Audio, language: str | None, **hint: str) -> tuple[str, str]:
    segments, info = model.transcribe(audio, language=language, beam_size=1, **hint)
    joiner = "" if info.language == "zh" else " "
    return joiner.join(s.text.strip() for s in segments).strip(), info.language


async def chinese(rounds: int) -> dict[str, Any]:
    audios = [speech.padded(speech.mandarin(s), 0.3, 0.5) for s in SENTENCES]
    return {name: await chinese_on(name, audios, rounds) for name in ("base", "tiny.en")}


async def chinese_on(name: str, audios: list[speech.Audio], rounds: int) -> dict[str, Any]:
    language = "zh" if name == "base" else "auto"
    engine = WhisperASR(ASRConfig(whisper={"model": name, "language": language}), NAMES)
    await engine.load()
    model = load_model(name)  # a second copy, for the floor and stock faster-whisper
    found: dict[str, Any] = {"texts": [], "rtf": [], "floor": []}
    unhinted = None
    if name == "base":
        found.update(stock_texts=[], stock_rtf=[], plain_texts=[])
        unhinted = WhisperASR(ASRConfig(whisper={"model": name, "language": language}))
    for audio in audios:
        length = audio.size / speech.RATE
        runs, encoder = [], []
        for _ in range(rounds):
            started = time.perf_counter()
            text = await engine.transcribe(audio)
            runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            encoder_alone(model, audio)
            encoder.append(time.perf_counter() - started)
        found["texts"].append(text)
        found["rtf"].append(statistics.median(runs) / length)
        found["floor"].append(statistics.median(encoder) / length)
        if name == "base":
            started = time.perf_counter()
            said, lang = stock(model, audio, "zh", hotwords=name_hint(NAMES))
            found["stock_rtf"].append((time.perf_counter() - started) / length)
            found["stock_texts"].append(in_script(said, lang, "simplified"))
        if unhinted is not None:
            found["plain_texts"].append(await unhinted.transcribe(audio))
    await engine.aclose()
    if unhinted is not None:
        await unhinted.aclose()
    return found


def load_model(name: str) -> Any:
    from faster_whisper import WhisperModel

    path = model_dir(ASRConfig(whisper={"model": name}))
    return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=2)


WAYS = (
    "no hint (stock)",
    "hotwords (stock)",
    "initial_prompt (stock)",
    "Kagura's short window, no hint",
    "Kagura's short window, hint",
)


def hear(model: Any, way: str, hint: str, audio: speech.Audio) -> str:
    if way == "no hint (stock)":
        return stock(model, audio, "en")[0]
    if way == "hotwords (stock)":
        return stock(model, audio, "en", hotwords=hint)[0]
    if way == "initial_prompt (stock)":
        return stock(model, audio, "en", initial_prompt=hint)[0]
    given = hint if way.endswith(", hint") else ""
    return transcribe_heard(model, audio, "en", 1, given, short_window=True).text


def names() -> dict[str, dict[str, tuple[int, int]]]:
    """Per model and way of giving the names: (transcripts with Kagura of NAMED ones, PLAIN
    ones that gained it)."""
    audios: list[tuple[bool, speech.Audio]] = []
    for sentence in NAMED + PLAIN:
        voices = [speech.piper(sentence), speech.piper(sentence, varied=True)]
        voices += [speech.piper(sentence, varied=True), speech.espeak(sentence)]
        audios += [(sentence in NAMED, speech.padded(v, 0.3, 0.5)) for v in voices]
    results: dict[str, dict[str, tuple[int, int]]] = {}
    for name in ("tiny.en", "base"):
        model = load_model(name)
        hint = name_hint(NAMES, latin_only=not model.model.is_multilingual)
        results[name] = {}
        for way in WAYS:
            heard = [(named, "kagura" in hear(model, way, hint, a).lower()) for named, a in audios]
            hits = sum(named and has for named, has in heard)
            gained = sum(has and not named for named, has in heard)
            results[name][way] = (hits, gained)
    return results


def report(
    found: dict[str, Any],
    heard_names: dict[str, dict[str, tuple[int, int]]],
    rounds: int,
    load: float,
) -> str:
    base, tiny = found["base"], found["tiny.en"]
    errors = [cer(s, t) for s, t in zip(SENTENCES, base["texts"], strict=True)]
    stock_errors = [cer(s, t) for s, t in zip(SENTENCES, base["stock_texts"], strict=True)]
    plain_errors = [cer(s, t) for s, t in zip(SENTENCES, base["plain_texts"], strict=True)]
    inserted = sum(any(n in t for n in NAMES) for t in base["texts"])
    inserted_plain = sum(any(n in t for n in NAMES) for t in base["plain_texts"])
    exact = sum(e == 0 for e in errors)

    def med(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} (p90 {nearest_rank(values, 0.9):.2f})"

    lines = [
        "`bench/asr_zh.py`: 20 Chinese sentences spoken by espeak-ng's Mandarin "
        "(`cmn-latn-pinyin`, 150 words a minute; robotic, the same speech every run), "
        f"transcribed in the benchmark's process by `WhisperASR` as the server runs it "
        "(Whisper base: `language: zh`, `chinese: simplified`, the names as the hint; "
        "tiny.en for its speed alone, it hears English only). **CER**: character edit "
        "distance over the sentence's characters, punctuation left out, after the conversion "
        f"to simplified. **RTF**: transcription time over the utterance's length, median of "
        f"{rounds} runs. The **floor** is the model's encoder alone on the same window. Stock "
        "faster-whisper (`transcribe` with its defaults: 30 s window, temperature fallback) "
        "is shown beside it.",
        "",
        "| measurement (20 utterances) | Whisper base | tiny.en | floor (encoder alone) |",
        "|---|---|---|---|",
        f"| **CER, median** | **{statistics.median(errors):.2f}** "
        f"(mean {statistics.mean(errors):.2f}; {exact} of 20 exact) | — (English only) | 0 |",
        f"| **RTF, median** | **{med(base['rtf'])}** | {med(tiny['rtf'])} | "
        f"base {med(base['floor'])}; tiny.en {med(tiny['floor'])} |",
        f"| stock faster-whisper, base: CER median / RTF median | "
        f"{statistics.median(stock_errors):.2f} / {statistics.median(base['stock_rtf']):.2f} "
        f"(p90 {nearest_rank(base['stock_rtf'], 0.9):.2f}) | — | — |",
        f"| base without the names' hint: CER median (mean) | "
        f"{statistics.median(plain_errors):.2f} ({statistics.mean(plain_errors):.2f}) | — | — |",
        f"| transcripts with a name nobody said (Kagura, 神乐): hint / no hint | "
        f"{inserted} / {inserted_plain} of 20 | — | — |",
        "",
        "| said | heard (base) | CER | RTF |",
        "|---|---|---|---|",
    ]
    for sentence, text, error, rtf in zip(
        SENTENCES, base["texts"], errors, base["rtf"], strict=True
    ):
        lines.append(f"| {sentence} | {text or '(nothing)'} | {error:.2f} | {rtf:.2f} |")
    total = len(NAMED) * 4
    plain = len(PLAIN) * 4
    lines += [
        "",
        f"**The character's name.** {len(NAMED)} English sentences naming Kagura, each spoken "
        f"4 ways (piper with its noise off, twice with it on, espeak-ng): {total} utterances; "
        f"and {plain} utterances of {len(PLAIN)} sentences without the name, to see whether "
        "a hint puts it where it was not said. `hotwords` and `initial_prompt` are "
        "faster-whisper's; Kagura passes the names like `hotwords` (before the start of the "
        "transcript) on its short window, and as `hotwords` on the 30 s fallback.",
        "",
        f"| names given as | tiny.en: Kagura written (of {total}) | tiny.en: gained (of {plain}) "
        f"| base: Kagura written | base: gained |",
        "|---|---|---|---|---|",
    ]
    for way in heard_names["tiny.en"]:
        (t_hits, t_gain), (b_hits, b_gain) = heard_names["tiny.en"][way], heard_names["base"][way]
        lines.append(f"| {way} | {t_hits} | {t_gain} | {b_hits} | {b_gain} |")
    lines += ["", machine(load)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--no-write", action="store_true", help="print, do not update the doc")
    args = parser.parse_args()
    exit_on_sigterm()
    load = os.getloadavg()[0]
    found = asyncio.run(chinese(args.rounds))
    heard_names = names()
    body = report(found, heard_names, args.rounds, load)
    print(body)
    if not args.no_write:
        write_section(TITLE, body)


if __name__ == "__main__":
    main()
