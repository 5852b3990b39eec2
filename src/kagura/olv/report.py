"""What an import did, one line per part, for the summary table and the config's header."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Line:
    """One part of the import: what Open-LLM-VTuber had, what Kagura got, and, when Kagura
    could not carry it over as it was, what it uses instead and what the user can do."""

    part: str  # "LLM", "TTS", "preset zh_mili.yaml", ...
    source: str  # what Open-LLM-VTuber had (never a secret)
    result: str  # what Kagura got
    note: str = ""
    carried: bool = True  # False: not carried over; `result` is what Kagura uses instead


