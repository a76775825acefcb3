"""Vocab: characters <-> integer ids.

Policy for characters outside the vocabulary: they are an error, named with their position,
unless the vocabulary was built with an `unk` character, in which case they map to it.
Silent dropping is never an option — it would shift every later character and corrupt the
alignment that both tasks rely on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from rnnlab.errors import UserError


def describe_char(ch: str) -> str:
    """A printable description of one character, for error messages."""
    if ch.isprintable() and not ch.isspace():
        return f"{ch!r} (U+{ord(ch):04X})"
    return f"U+{ord(ch):04X} {ch!r}"


@dataclass(frozen=True)
class Vocab:
    chars: str
    unk: str | None = None
    _index: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.chars:
            raise UserError("a vocabulary needs at least one character")
        if len(set(self.chars)) != len(self.chars):
            dupes = sorted({c for c in self.chars if self.chars.count(c) > 1})
            raise UserError(f"vocabulary has repeated characters: {''.join(dupes)!r}")
        if self.unk is not None and self.unk not in self.chars:
            raise UserError(f"unk character {self.unk!r} is not in the vocabulary")
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(self.chars)})

    @classmethod
    def from_text(cls, texts: Iterable[str], unk: str | None = None) -> Vocab:
        """The sorted set of characters seen in `texts` (plus `unk`, if given)."""
        seen: set[str] = set()
        for text in texts:
            seen.update(text)
        if unk is not None:
            seen.add(unk)
        return cls("".join(sorted(seen)), unk=unk)

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self._index

    def unknown_chars(self, text: str) -> list[str]:
        """Characters of `text` outside the vocabulary, in order of first appearance."""
        return list(dict.fromkeys(c for c in text if c not in self._index))

    def encode(self, text: str) -> np.ndarray:
        """Ids of `text` as an int64 array; raises UserError on an unknown character."""
        index = self._index
        unk_id = index[self.unk] if self.unk is not None else None
        ids = np.empty(len(text), dtype=np.int64)
        for pos, ch in enumerate(text):
            i = index.get(ch, unk_id)
            if i is None:
                raise UserError(
                    f"character {describe_char(ch)} at position {pos} is not in the "
                    f"model's vocabulary"
                )
            ids[pos] = i
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        chars = self.chars
        return "".join(chars[int(i)] for i in ids)

    def to_dict(self) -> dict:
        return {"chars": self.chars, "unk": self.unk}

    @classmethod
    def from_dict(cls, data: dict) -> Vocab:
        try:
            return cls(chars=data["chars"], unk=data.get("unk"))
        except (KeyError, TypeError) as e:
            raise UserError(f"malformed vocabulary in config: {e}") from None
