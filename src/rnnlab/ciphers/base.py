"""The shape every cipher shares: length-preserving maps over an Alphabet.

A cipher transforms the sequence of alphabet indices of a text. Characters outside the
alphabet are lifted out first and put back afterwards in their places, so they neither
change nor advance a running key (Vigenère's key letter, Enigma's rotors).

Subclasses implement either the per-symbol pair `encrypt_index` / `decrypt_index` (a
function of the symbol and its position among alphabet symbols) or, for ciphers with state
along the message (autokey, Enigma), the sequence pair `encrypt_indices` /
`decrypt_indices`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from rnnlab.ciphers.alphabet import Alphabet


class Cipher(ABC):
    name: ClassVar[str]
    summary: ClassVar[str]
    default_alphabet: ClassVar[str]

    def __init__(self, alphabet: Alphabet) -> None:
        self.alphabet = alphabet

    @property
    @abstractmethod
    def key(self) -> Any:
        """The key in its canonical, JSON-serialisable form."""

    def encrypt_index(self, index: int, position: int) -> int:
        raise NotImplementedError

    def decrypt_index(self, index: int, position: int) -> int:
        raise NotImplementedError

    def encrypt_indices(self, indices: Sequence[int]) -> list[int]:
        return [self.encrypt_index(i, pos) for pos, i in enumerate(indices)]

    def decrypt_indices(self, indices: Sequence[int]) -> list[int]:
        return [self.decrypt_index(i, pos) for pos, i in enumerate(indices)]

    def encrypt(self, text: str) -> str:
        return self._map(text, self.encrypt_indices)

    def decrypt(self, text: str) -> str:
        return self._map(text, self.decrypt_indices)

    def encrypt_ids(self, ids: np.ndarray) -> np.ndarray:
        """Encrypt a (batch, length) array of alphabet indices, one message per row.

        The generic version goes row by row; ciphers with a closed form override it,
        because training data is generated through this path.
        """
        return np.array([self.encrypt_indices(row.tolist()) for row in ids], dtype=ids.dtype)

    def spec(self) -> dict[str, Any]:
        """Everything needed to rebuild this cipher with `get_cipher(**spec)`."""
        return {"name": self.name, "key": self.key, "alphabet": self.alphabet.chars}

    def _map(self, text: str, transform: Callable[[Sequence[int]], list[int]]) -> str:
        found = [self.alphabet.lookup(ch) for ch in text]
        mapped = iter(transform([f[0] for f in found if f is not None]))
        return "".join(
            ch if f is None else self.alphabet.symbol(next(mapped), f[1])
            for ch, f in zip(text, found, strict=True)
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r}, alphabet={self.alphabet.chars!r})"
