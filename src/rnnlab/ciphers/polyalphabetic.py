"""A key word cycles along the message: Vigenère, Beaufort, and autokey."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnlab.ciphers.alphabet import LATIN, Alphabet
from rnnlab.ciphers.base import Cipher
from rnnlab.ciphers.keys import word_key
from rnnlab.ciphers.registry import register


class KeywordCipher(Cipher):
    default_alphabet = LATIN

    def __init__(self, key=None, alphabet: Alphabet | None = None) -> None:
        super().__init__(alphabet or Alphabet(self.default_alphabet))
        self.shifts = word_key(self.name, key, self.alphabet)

    @property
    def key(self) -> str:
        return "".join(self.alphabet.chars[i] for i in self.shifts)


@register
class Vigenere(KeywordCipher):
    name = "vigenere"
    summary = "add the key word's letters in turn: C = P + K (mod m); key a word"

    def encrypt_index(self, index: int, position: int) -> int:
        return (index + self.shifts[position % len(self.shifts)]) % len(self.alphabet)

    def decrypt_index(self, index: int, position: int) -> int:
        return (index - self.shifts[position % len(self.shifts)]) % len(self.alphabet)

    def encrypt_ids(self, ids: np.ndarray) -> np.ndarray:
        shifts = np.resize(np.array(self.shifts), ids.shape[1])
        return (ids + shifts) % len(self.alphabet)


@register
class Beaufort(KeywordCipher):
    name = "beaufort"
    summary = "C = K - P (mod m) with the key word in turn; its own inverse; key a word"

    def encrypt_index(self, index: int, position: int) -> int:
        return (self.shifts[position % len(self.shifts)] - index) % len(self.alphabet)

    decrypt_index = encrypt_index  # K - (K - P) = P


@register
class Autokey(KeywordCipher):
    name = "autokey"
    summary = "Vigenère whose key is the key word followed by the plaintext itself"

    def encrypt_indices(self, indices: Sequence[int]) -> list[int]:
        m = len(self.alphabet)
        stream = self.shifts + list(indices)
        return [(p + stream[pos]) % m for pos, p in enumerate(indices)]

    def decrypt_indices(self, indices: Sequence[int]) -> list[int]:
        m = len(self.alphabet)
        stream = list(self.shifts)
        plain = []
        for pos, c in enumerate(indices):
            p = (c - stream[pos]) % m
            plain.append(p)
            stream.append(p)  # each recovered letter extends the key
        return plain
