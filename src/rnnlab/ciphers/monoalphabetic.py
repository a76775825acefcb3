"""One fixed substitution for every position: atbash, affine, and general substitution."""

from __future__ import annotations

import math

import numpy as np

from rnnlab.ciphers.alphabet import LATIN, Alphabet
from rnnlab.ciphers.base import Cipher
from rnnlab.ciphers.keys import int_list
from rnnlab.ciphers.registry import register
from rnnlab.errors import UserError


class TableCipher(Cipher):
    """A monoalphabetic cipher is a permutation table; subclasses say how to build it."""

    def __init__(self, table: list[int], alphabet: Alphabet) -> None:
        super().__init__(alphabet)
        self.table = np.array(table, dtype=np.int64)
        self.inverse = np.argsort(self.table)

    def encrypt_index(self, index: int, position: int) -> int:
        return int(self.table[index])

    def decrypt_index(self, index: int, position: int) -> int:
        return int(self.inverse[index])

    def encrypt_ids(self, ids: np.ndarray) -> np.ndarray:
        return self.table[ids]


@register
class Atbash(TableCipher):
    name = "atbash"
    summary = "reverse the alphabet (A<->Z, B<->Y, ...); no key"
    default_alphabet = LATIN
    min_crack_letters = 1  # one key: nothing to choose

    def __init__(self, key=None, alphabet: Alphabet | None = None) -> None:
        if key is not None:
            raise UserError("atbash takes no key")
        alphabet = alphabet or Alphabet(self.default_alphabet)
        m = len(alphabet)
        super().__init__([m - 1 - i for i in range(m)], alphabet)

    @property
    def key(self) -> None:
        return None

    @classmethod
    def key_count(cls, m: int, key_length: tuple[int, int]) -> int:
        return 1


@register
class Affine(TableCipher):
    name = "affine"
    summary = "E(x) = (A*x + B) mod m; key 'A,B' with A coprime to the alphabet size"
    default_alphabet = LATIN
    random_keys = True
    min_crack_letters = 10

    def __init__(self, key=None, alphabet: Alphabet | None = None) -> None:
        alphabet = alphabet or Alphabet(self.default_alphabet)
        if key is None:
            raise UserError("affine needs `key` A,B (e.g. 5,8)")
        a, b = int_list("affine", key, 2, "5,8")
        m = len(alphabet)
        if math.gcd(a, m) != 1:
            choices = ", ".join(str(x) for x in units(m))
            raise UserError(
                f"affine key A={a} shares a factor with the alphabet size {m}, so it cannot be "
                f"decrypted; A must be one of {choices}"
            )
        self.a, self.b = a % m, b % m
        super().__init__([(self.a * x + self.b) % m for x in range(m)], alphabet)

    @property
    def key(self) -> str:
        return f"{self.a},{self.b}"

    @classmethod
    def random_key(
        cls, rng: np.random.Generator, alphabet: str, key_length: tuple[int, int]
    ) -> str:
        m = len(alphabet)
        a = units(m)
        return f"{a[int(rng.integers(0, len(a)))]},{int(rng.integers(0, m))}"

    @classmethod
    def key_count(cls, m: int, key_length: tuple[int, int]) -> int:
        return len(units(m)) * m

    @classmethod
    def key_symbol_range(cls, m: int, key_length: tuple[int, int]) -> tuple[int, int]:
        return 2, 2  # A and B are numbers below m: one symbol each

    def key_symbols(self) -> list[int]:
        return [self.a, self.b]

    @classmethod
    def key_from_symbols(cls, alphabet: str, symbols: list[int]) -> str:
        return f"{symbols[0]},{symbols[1]}"


def units(m: int) -> list[int]:
    """The multipliers A that have an inverse mod m (coprime to m), in order."""
    return [a for a in range(1, m) if math.gcd(a, m) == 1]


@register
class Substitution(TableCipher):
    name = "substitution"
    summary = "any permutation; key: the ciphertext letters for A, B, C, ... in order"
    default_alphabet = LATIN
    random_keys = True
    min_crack_letters = 25

    def __init__(self, key=None, alphabet: Alphabet | None = None) -> None:
        alphabet = alphabet or Alphabet(self.default_alphabet)
        if key is None:
            raise UserError(
                f"substitution needs `key`: a permutation of the alphabet {alphabet.chars!r}"
            )
        table = []
        for ch in str(key):
            found = alphabet.lookup(ch)
            if found is None:
                raise UserError(f"substitution key: {ch!r} is not in the alphabet")
            table.append(found[0])
        missing = [alphabet.chars[i] for i in range(len(alphabet)) if i not in table]
        if len(table) != len(alphabet) or missing:
            repeated = sorted({alphabet.chars[i] for i in table if table.count(i) > 1})
            raise UserError(
                f"substitution key must use each of the {len(alphabet)} alphabet symbols once "
                f"(got {len(table)}; missing {''.join(missing) or 'none'}, repeated "
                f"{''.join(repeated) or 'none'})"
            )
        super().__init__(table, alphabet)

    @property
    def key(self) -> str:
        return "".join(self.alphabet.chars[i] for i in self.table)

    @classmethod
    def random_key(
        cls, rng: np.random.Generator, alphabet: str, key_length: tuple[int, int]
    ) -> str:
        return "".join(alphabet[i] for i in rng.permutation(len(alphabet)))

    @classmethod
    def key_count(cls, m: int, key_length: tuple[int, int]) -> int:
        return math.factorial(m)

    @classmethod
    def key_nats(cls, m: int, key_length: tuple[int, int]) -> float:
        return math.lgamma(m + 1)  # log m!, without the big integer

    @classmethod
    def key_symbol_range(cls, m: int, key_length: tuple[int, int]) -> tuple[int, int]:
        return m, m  # the whole table

    def key_symbols(self) -> list[int]:
        return [int(i) for i in self.table]

    @classmethod
    def key_from_symbols(cls, alphabet: str, symbols: list[int]) -> str:
        return "".join(alphabet[i] for i in symbols)
