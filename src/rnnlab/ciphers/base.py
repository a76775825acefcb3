"""The shape every cipher shares: length-preserving maps over an Alphabet.

A cipher transforms the alphabet's symbols one position at a time. `position` counts only
the symbols it transformed, so characters outside the alphabet neither change nor advance a
running key (what polyalphabetic ciphers will need).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
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

    @abstractmethod
    def encrypt_index(self, index: int, position: int) -> int: ...

    @abstractmethod
    def decrypt_index(self, index: int, position: int) -> int: ...

    def encrypt(self, text: str) -> str:
        return self._map(text, self.encrypt_index)

    def decrypt(self, text: str) -> str:
        return self._map(text, self.decrypt_index)

    def encrypt_ids(self, ids: np.ndarray) -> np.ndarray:
        """Encrypt a (batch, length) array of alphabet indices, one message per row.

        The generic version calls `encrypt_index` per symbol; ciphers with a closed form
        override it, because training data is generated through this path.
        """
        out = np.empty_like(ids)
        for row in range(ids.shape[0]):
            for pos in range(ids.shape[1]):
                out[row, pos] = self.encrypt_index(int(ids[row, pos]), pos)
        return out

    def spec(self) -> dict[str, Any]:
        """Everything needed to rebuild this cipher with `get_cipher(**spec)`."""
        return {"name": self.name, "key": self.key, "alphabet": self.alphabet.chars}

    def _map(self, text: str, fn) -> str:
        out = []
        position = 0
        for ch in text:
            found = self.alphabet.lookup(ch)
            if found is None:
                out.append(ch)
                continue
            index, swapped = found
            out.append(self.alphabet.symbol(fn(index, position), swapped))
            position += 1
        return "".join(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key={self.key!r}, alphabet={self.alphabet.chars!r})"
