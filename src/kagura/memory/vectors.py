"""The embedding index: every note's vector in memory, searched in milliseconds.

The database keeps each note's vector beside its text (table `vectors`), so the index is
rebuilt from it at start and is never the only copy; a vector is itself derived from the
text and made again when missing. In memory a vector is 8-bit (a scale per row) and a sign
bit per dimension: a query first ranks every row by how many signs it shares (a popcount
over 64 bytes a row, ~3 ms for 100,000 notes), then the best `POOL` rows by their 8-bit dot
product. At 512 dimensions that is ~580 bytes a note.

Everything here runs on the memory database's worker thread, one call at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

POOL = 1_024  # rows re-ranked exactly after the sign-bit pass
GROW = 1_024  # rows added at a time when the arrays fill up
_INT8_MAX = 127.0

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Packed:
    """A vector as stored: 8-bit values and the scale that brings them back."""

    values: npt.NDArray[np.int8]
    scale: float

    def to_bytes(self) -> bytes:
        return np.float32(self.scale).tobytes() + self.values.tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Packed:
        scale = float(np.frombuffer(data[:4], dtype=np.float32)[0])
        return cls(np.frombuffer(data[4:], dtype=np.int8), scale)


def pack(vector: Vector) -> Packed:
    """Quantise a unit vector to 8 bits (symmetric, its own scale)."""
    peak = float(np.max(np.abs(vector))) if vector.size else 0.0
    scale = peak / _INT8_MAX if peak > 0 else 1.0
    values = np.clip(np.rint(vector / scale), -_INT8_MAX, _INT8_MAX).astype(np.int8)
    return Packed(values, scale)


class VectorIndex:
    """Note id → vector, with the note's scope and owner (0: about nobody in particular)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._words = (dim + 63) // 64
        self._count = 0  # rows used, live or dead
        self._ids = np.zeros(0, dtype=np.int64)
        self._scopes = np.zeros(0, dtype=np.int32)
        self._owners = np.zeros(0, dtype=np.int64)
        self._values = np.zeros((0, dim), dtype=np.int8)
        self._scales = np.zeros(0, dtype=np.float32)
        self._signs = np.zeros((0, self._words), dtype=np.uint64)
        self._rows: dict[int, int] = {}  # note id → row
        self._scope_codes: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays (the dict of rows aside)."""
        arrays = (self._ids, self._scopes, self._owners, self._values, self._scales, self._signs)
        return sum(array.nbytes for array in arrays)

    def __contains__(self, note_id: object) -> bool:
        return note_id in self._rows

    def add(self, note_id: int, scope: str, owner: int | None, packed: Packed) -> None:
        """Index a note's vector (replacing the one it had)."""
        if packed.values.shape != (self.dim,):
            raise ValueError(f"vector of {packed.values.shape} for an index of {self.dim}")
        self.remove([note_id])
        if self._count == len(self._ids):
            self._grow()
        row = self._count
        self._count += 1
        self._ids[row] = note_id
        self._scopes[row] = self._scope_codes.setdefault(scope, len(self._scope_codes) + 1)
        self._owners[row] = owner or 0
        self._values[row] = packed.values
        self._scales[row] = packed.scale
        self._signs[row] = _signs(packed.values[None, :], self._words)[0]
        self._rows[note_id] = row

    def remove(self, note_ids: Iterable[int]) -> None:
        for note_id in note_ids:
            row = self._rows.pop(note_id, None)
            if row is not None:
                self._scopes[row] = 0  # in no scope: never found again
                self._owners[row] = -1
        if self._count > GROW and len(self._rows) < self._count // 2:
            self._compact()

    def similarity(self, query: Vector, note_ids: Sequence[int]) -> dict[int, float]:
        """Cosine similarity of `query` to the notes named (those indexed)."""
        rows = [self._rows[note_id] for note_id in note_ids if note_id in self._rows]
        if not rows:
            return {}
        scores = self._exact(query, np.asarray(rows))
        return {int(self._ids[row]): float(s) for row, s in zip(rows, scores, strict=True)}

    def search(self, query: Vector, scope: str, limit: int) -> list[tuple[int, float]]:
        """The `limit` notes about nobody in particular in `scope` most like `query`, best
        first, as (note id, cosine similarity)."""
        code = self._scope_codes.get(scope)
        if code is None or limit <= 0 or not self._rows:
            return []
        n = self._count
        eligible = (self._scopes[:n] == code) & (self._owners[:n] == 0)
        candidates = np.flatnonzero(eligible)
        if len(candidates) > POOL:
            differ = np.bitwise_count(self._signs[candidates] ^ _signs_of(query, self._words))
            distance = differ.sum(axis=1, dtype=np.int32)
            candidates = candidates[np.argpartition(distance, POOL)[:POOL]]
        if not len(candidates):
            return []
        scores = self._exact(query, candidates)
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(int(self._ids[candidates[i]]), float(scores[i])) for i in order]

    def _exact(self, query: Vector, rows: npt.NDArray[np.intp]) -> npt.NDArray[np.float32]:
        values = self._values[rows].astype(np.float32)
        return (values @ query.astype(np.float32)) * self._scales[rows]

    def _grow(self) -> None:
        size = len(self._ids) + max(GROW, len(self._ids) // 2)
        self._resize(size)

    def _resize(self, size: int) -> None:
        def grown(array: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
            new = np.zeros((size, *array.shape[1:]), dtype=array.dtype)
            keep = min(size, len(array))
            new[:keep] = array[:keep]
            return new

        self._ids, self._scopes, self._owners = (
            grown(self._ids),  # type: ignore[assignment]
            grown(self._scopes),  # type: ignore[assignment]
            grown(self._owners),  # type: ignore[assignment]
        )
        self._values, self._scales, self._signs = (
            grown(self._values),  # type: ignore[assignment]
            grown(self._scales),  # type: ignore[assignment]
            grown(self._signs),  # type: ignore[assignment]
        )

    def _compact(self) -> None:
        """Close the gaps removed notes left (rows keep their order)."""
        live = np.asarray(sorted(self._rows.values()), dtype=np.intp)
        for name in ("_ids", "_scopes", "_owners", "_values", "_scales", "_signs"):
            array = getattr(self, name)
            setattr(self, name, array[live].copy())
        self._count = len(live)
        self._rows = {int(note_id): row for row, note_id in enumerate(self._ids[: self._count])}
        self._resize(max(self._count, GROW))


def _signs(values: npt.NDArray[np.int8], words: int) -> npt.NDArray[np.uint64]:
    bits = np.packbits(values > 0, axis=1)
    padded = np.zeros((len(values), words * 8), dtype=np.uint8)
    padded[:, : bits.shape[1]] = bits
    return padded.view(np.uint64)


def _signs_of(query: Vector, words: int) -> npt.NDArray[np.uint64]:
    signs: npt.NDArray[np.uint64] = _signs((query > 0).astype(np.int8)[None, :], words)[0]
    return signs
