"""The letters of a ciphertext, and putting recovered letters back in their places.

Classical cryptanalysis works on the letters A-Z alone: spaces, digits and punctuation
carry no key (the registry's ciphers let them pass through without advancing the key), so
they are lifted out first and restored afterwards, with each letter's case.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnlab.ciphers.alphabet import LATIN, Alphabet

LETTERS = Alphabet(LATIN)
M = len(LATIN)  # 26


@dataclass(frozen=True)
class Letters:
    text: str  # the original text, every character
    ids: np.ndarray  # int64 letter indices 0..25, non-letters removed

    @classmethod
    def of(cls, text: str) -> Letters:
        found = (LETTERS.lookup(ch) for ch in text)
        ids = [f[0] for f in found if f is not None]
        return cls(text, np.array(ids, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.ids)

    def restore(self, plain_ids: np.ndarray) -> str:
        """The original text with each letter replaced by the plaintext letter, case kept."""
        mapped = iter(plain_ids.tolist())
        out = []
        for ch in self.text:
            found = LETTERS.lookup(ch)
            out.append(ch if found is None else LETTERS.symbol(next(mapped), found[1]))
        return "".join(out)


def to_ids(text: str) -> np.ndarray:
    return Letters.of(text).ids


def index_of_coincidence(ids: np.ndarray) -> float:
    """Probability that two letters drawn without replacement are equal (English ~0.066,
    uniform random letters 1/26 ~0.038)."""
    n = len(ids)
    if n < 2:
        return 0.0
    counts = np.bincount(ids, minlength=M)
    return float((counts * (counts - 1)).sum() / (n * (n - 1)))
