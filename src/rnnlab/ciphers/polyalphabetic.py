"""A key word cycles along the message: Vigenère, Beaufort, and autokey."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from rnnlab.ciphers.alphabet import LATIN, Alphabet
from rnnlab.ciphers.base import Cipher
from rnnlab.ciphers.keys import word_key
from rnnlab.ciphers.registry import register


class KeywordCipher(Cipher):
    default_alphabet = LATIN
    random_keys = True
    key_is_word = True
    min_crack_letters = 20

    def __init__(self, key=None, alphabet: Alphabet | None = None) -> None:
        super().__init__(alphabet or Alphabet(self.default_alphabet))
        self.shifts = word_key(self.name, key, self.alphabet)

    @property
    def key(self) -> str:
        return "".join(self.alphabet.chars[i] for i in self.shifts)

    @classmethod
    def random_key(
        cls, rng: np.random.Generator, alphabet: str, key_length: tuple[int, int]
    ) -> str:
        """A word of uniform length in LO-HI, its letters uniform."""
        lo, hi = key_length
        n = int(rng.integers(lo, hi + 1))
        return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=n))

    @classmethod
    def key_count(cls, m: int, key_length: tuple[int, int]) -> int:
        lo, hi = key_length
        return sum(m**n for n in range(lo, hi + 1))

    @classmethod
    def key_nats(cls, m: int, key_length: tuple[int, int]) -> float:
        lo, hi = key_length
        if lo == hi:  # each letter of the word costs log m (no big integer to take the log of)
            return lo * math.log(m)
        return super().key_nats(m, key_length)

    @classmethod
    def key_symbol_range(cls, m: int, key_length: tuple[int, int]) -> tuple[int, int]:
        lo, hi = key_length
        return lo, hi  # a word is its letters

    def key_symbols(self) -> list[int]:
        return list(self.shifts)

    @classmethod
    def key_from_symbols(cls, alphabet: str, symbols: list[int]) -> str:
        return "".join(alphabet[i] for i in symbols)


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
