"""Which language each part of a reply is in, so each part goes to the voice for it.

The script decides what it can (kana is Japanese, hangul Korean, Han characters Chinese), and
a small statistical identifier (py3langid, a numpy model of 97 languages, ~0.1 ms a clause)
decides between languages that share a script, choosing only among the languages that have a
voice. A clause too short or too plain to tell ("ok", "2026!", an emoji) stays with the
clause before it, so a reply is cut only where its language really changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# A clause: text up to and including its closing punctuation (or the end).
_CLAUSE = re.compile(r".*?(?:[。！？!?；;…\n]+|\.+(?=\s|$)|$)", re.S)
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER = re.compile(r"[^\W\d_]")
# Below this probability the identifier is guessing: the clause keeps its neighbour's language.
MIN_PROBABILITY = 0.6


@dataclass(frozen=True)
class Run:
    """Consecutive text in one language."""

    language: str
    text: str


class LanguageSplitter:
    """Splits text into runs of the given languages; anything else counts as `default`."""

    def __init__(self, default: str, languages: set[str]) -> None:
        self.default = default
        self.languages = {default, *languages}
        self._identifier: Any = None

    def load(self) -> None:
        """Load the identifier's model (~0.8 s): once, at start-up, never on a reply's way."""
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(sorted(self.languages))
        self._identifier = identifier

    def runs(self, text: str) -> list[Run]:
        runs: list[Run] = []
        pending = ""  # clauses of no telling language, waiting for a neighbour
        for clause in _CLAUSE.findall(text):
            if not clause:
                continue
            language = self.language_of(clause)
            if language is None:
                if runs:
                    runs[-1] = Run(runs[-1].language, runs[-1].text + clause)
                else:
                    pending += clause
                continue
            if runs and runs[-1].language == language:
                runs[-1] = Run(language, runs[-1].text + clause)
            else:
                runs.append(Run(language, pending + clause))
            pending = ""
        if pending:
            runs.append(Run(self.default, pending))
        return runs

    def language_of(self, clause: str) -> str | None:
        """The clause's language among ours, or None when it cannot be told."""
        if _KANA.search(clause) and "ja" in self.languages:
            return "ja"
        if _HANGUL.search(clause) and "ko" in self.languages:
            return "ko"
        if _HAN.search(clause):
            for language in ("zh", "ja"):
                if language in self.languages:
                    return language
            return self.default
        if not _LETTER.search(clause):
            return None
        latin = self.languages - {"zh", "ja", "ko"}
        if len(latin) <= 1:
            return next(iter(latin), self.default)
        if self._identifier is None:
            self.load()
        language, probability = self._identifier.classify(clause)
        return str(language) if probability >= MIN_PROBABILITY else None
