"""Alphabet: the ordered symbols a classical cipher works over.

Position in the alphabet is the number the cipher does arithmetic on. Characters outside it
pass through a cipher unchanged. When every symbol of the alphabet has another case (A-Z
does), the other case is enciphered too and keeps its case (`Hello` -> `Uryyb` under rot13).
An alphabet with a caseless symbol (the seed's `-`) gets no case folding: `n` would have to
become a lowercase `-`, and decryption could not give `n` back.
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
    _other_case: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.chars) < 2:
            raise UserError(f"an alphabet needs at least 2 symbols, got {self.chars!r}")
        if len(set(self.chars)) != len(self.chars):
            dupes = "".join(sorted({c for c in self.chars if self.chars.count(c) > 1}))
            raise UserError(f"alphabet has repeated symbols: {dupes!r}")
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(self.chars)})
        swapped = {c.swapcase(): i for i, c in enumerate(self.chars)}
        foldable = all(len(o) == 1 and o not in self._index for o in swapped) and len(
            swapped
        ) == len(self.chars)
        object.__setattr__(self, "_other_case", swapped if foldable else {})

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
        i = self._other_case.get(ch)
        return (i, True) if i is not None else None

    def symbol(self, index: int, case_swapped: bool = False) -> str:
        ch = self.chars[index]
        return ch.swapcase() if case_swapped else ch
