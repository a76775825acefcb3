"""Alphabet: the ordered symbols a classical cipher works over.

Position in the alphabet is the number the cipher does arithmetic on. Characters outside it
pass through a cipher unchanged; a character whose other case is in the alphabet is
enciphered as that letter and keeps its own case (`Hello` -> `Uryyb` under rot13).
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from rnnlab.errors import UserError

SEED_ALPHABET = string.ascii_uppercase + "-"  # the 27 symbols of seeds 000-002
LATIN = string.ascii_uppercase


@dataclass(frozen=True)
class Alphabet:
    chars: str
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.chars) < 2:
            raise UserError(f"an alphabet needs at least 2 symbols, got {self.chars!r}")
        if len(set(self.chars)) != len(self.chars):
            dupes = "".join(sorted({c for c in self.chars if self.chars.count(c) > 1}))
            raise UserError(f"alphabet has repeated symbols: {dupes!r}")
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(self.chars)})

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self._index

    def __str__(self) -> str:
        return self.chars

    def lookup(self, ch: str) -> tuple[int, bool] | None:
        """(index, case_swapped) for a character the cipher should transform, else None."""
        i = self._index.get(ch)
        if i is not None:
            return i, False
        other = ch.swapcase()
        if len(other) == 1 and other != ch:
            i = self._index.get(other)
            if i is not None:
                return i, True
        return None

    def symbol(self, index: int, case_swapped: bool = False) -> str:
        ch = self.chars[index]
        return ch.swapcase() if case_swapped else ch
