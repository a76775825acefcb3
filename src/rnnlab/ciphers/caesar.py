"""Shift ciphers: `caesar` (any integer key, any alphabet) and classical `rot13`.

`caesar` works over the 26 letters (both cases) unless given another alphabet, as anyone
who has met a Caesar cipher expects. The seed task's cipher is `caesar` with key 13 over
`A`-`Z` plus `-` (that alphabet is `decipher train`'s default for caesar); with 27 symbols a
shift of 13 is not its own inverse (13 + 13 != 27), unlike classical ROT13 over 26 letters.
"""

from __future__ import annotations

import numpy as np

from rnnlab.ciphers.alphabet import LATIN, Alphabet
from rnnlab.ciphers.base import Cipher
from rnnlab.ciphers.registry import register
from rnnlab.errors import UserError


@register
class Caesar(Cipher):
    name = "caesar"
    summary = "shift every symbol by KEY places (any integer); default key 13"
    default_alphabet = LATIN
    random_keys = True
    min_crack_letters = 8

    def __init__(self, key: int | str | None = None, alphabet: Alphabet | None = None) -> None:
        super().__init__(alphabet or Alphabet(self.default_alphabet))
        self.shift = parse_shift(13 if key is None else key) % len(self.alphabet)

    @property
    def key(self) -> int:
        return self.shift

    def encrypt_index(self, index: int, position: int) -> int:
        return (index + self.shift) % len(self.alphabet)

    def decrypt_index(self, index: int, position: int) -> int:
        return (index - self.shift) % len(self.alphabet)

    def encrypt_ids(self, ids: np.ndarray) -> np.ndarray:
        return (ids + self.shift) % len(self.alphabet)

    @classmethod
    def random_key(
        cls, rng: np.random.Generator, alphabet: str, key_length: tuple[int, int]
    ) -> str:
        return str(int(rng.integers(0, len(alphabet))))

    @classmethod
    def key_count(cls, m: int, key_length: tuple[int, int]) -> int:
        return m

    @classmethod
    def key_symbol_range(cls, m: int, key_length: tuple[int, int]) -> tuple[int, int]:
        return 1, 1  # a shift is a number below m: one symbol

    def key_symbols(self) -> list[int]:
        return [self.shift]

    @classmethod
    def key_from_symbols(cls, alphabet: str, symbols: list[int]) -> str:
        return str(symbols[0])


@register
class Rot13(Caesar):
    name = "rot13"
    summary = "classical ROT13: shift 13 over the 26 letters A-Z, its own inverse; no key"
    default_alphabet = LATIN
    # Its one key is fixed, so none is drawn or given to a model (Caesar's key methods are
    # inherited but never asked for), and breaking it needs no letters to choose among keys.
    random_keys = False
    min_crack_letters = 1

    def __init__(self, key: int | str | None = None, alphabet: Alphabet | None = None) -> None:
        if key is not None and parse_shift(key) % 26 != 13:
            raise UserError("rot13 takes no key (it is always 13); use `cipher` caesar `key` N")
        if alphabet is not None and alphabet.chars != LATIN:
            raise UserError(
                "rot13 is fixed to the 26 letters A-Z; use `cipher` caesar `alphabet` …"
            )
        super().__init__(13, Alphabet(LATIN))

    @classmethod
    def key_count(cls, m: int, key_length: tuple[int, int]) -> int:
        return 1


def parse_shift(key: int | str) -> int:
    if isinstance(key, bool):  # bool is an int subclass; True is not a key
        raise UserError(f"caesar key must be an integer, got {key!r}")
    if isinstance(key, int):
        return key
    try:
        return int(str(key).strip())
    except ValueError:
        raise UserError(f"caesar key must be an integer, got {key!r}") from None
