"""Random keys per cipher family, the key as symbols a model can read, and which keys are
held out for evaluation.

`--key-mode given|unknown` draws a fresh key for every message. Each family says how:

    caesar                      a shift 0 … m-1
    affine                      A coprime to m, B in 0 … m-1
    substitution                a uniform random permutation of the alphabet
    vigenere, beaufort, autokey a word of uniform length in --key-length LO-HI, letters uniform

Held-out keys: a key is held out when a stable hash of (family, alphabet, canonical key)
falls in the first HELD_OUT_BUCKETS of HASH_BUCKETS (about 1 key in 10). Training redraws
any held-out key; evaluation draws only held-out keys. The split is a pure function of the
key, so it needs no stored list and no two runs disagree on it. Families whose key space
(within the configured lengths) is small — caesar's 26 or 27 shifts, affine's 312 pairs —
hold no keys out: a tagger cannot learn the table of a shift it has never seen, and a
tenth of 27 keys says little. There evaluation uses fresh messages under keys that
training also draws, and reports `held_out_keys: false`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from rnnlab.ciphers.base import Cipher
from rnnlab.ciphers.registry import get_cipher
from rnnlab.errors import UserError

HASH_BUCKETS, HELD_OUT_BUCKETS = 1000, 100
MIN_KEYS_TO_HOLD_OUT = 10_000  # smaller key spaces hold nothing out (see above)
WORD_FAMILIES = ("vigenere", "beaufort", "autokey")
RANDOM_KEY_FAMILIES = ("caesar", "affine", "substitution", *WORD_FAMILIES)
DEFAULT_KEY_LENGTH = "3-12"


def parse_key_length(spec: str | None) -> tuple[int, int]:
    """'5' -> (5, 5); '3-12' -> (3, 12)."""
    text = DEFAULT_KEY_LENGTH if spec is None else str(spec).strip()
    lo_s, sep, hi_s = text.partition("-")
    try:
        lo = int(lo_s)
        hi = int(hi_s) if sep else lo
    except ValueError:
        raise UserError(f"--key-length must look like 5 or 3-12, got {spec!r}") from None
    if lo < 1 or hi < lo:
        raise UserError(f"--key-length must be 1 or more, low to high, got {spec!r}")
    return lo, hi


@dataclass(frozen=True)
class KeySpace:
    """How to draw random keys of one family over one alphabet."""

    family: str
    alphabet: str
    key_length: tuple[int, int] = (3, 12)  # word families only

    def __post_init__(self) -> None:
        if self.family not in RANDOM_KEY_FAMILIES:
            raise UserError(
                f"--key-mode given/unknown needs random keys, which {self.family} does not have "
                f"here; it works with {', '.join(RANDOM_KEY_FAMILIES)}"
            )

    @property
    def m(self) -> int:
        return len(self.alphabet)

    @property
    def size(self) -> int:
        """Number of distinct keys this space draws from."""
        if self.family == "caesar":
            return self.m
        if self.family == "affine":
            return sum(math.gcd(a, self.m) == 1 for a in range(1, self.m)) * self.m
        if self.family == "substitution":
            return math.factorial(self.m)
        lo, hi = self.key_length
        return sum(self.m**n for n in range(lo, hi + 1))

    @property
    def holds_out(self) -> bool:
        return self.size >= MIN_KEYS_TO_HOLD_OUT

    @property
    def max_symbols(self) -> int:
        """The longest key as symbols (what a given-mode model must make room for)."""
        if self.family == "caesar":
            return 1
        if self.family == "affine":
            return 2
        if self.family == "substitution":
            return self.m
        return self.key_length[1]

    @property
    def min_symbols(self) -> int:
        """The shortest key as symbols (only key words vary in length)."""
        return self.key_length[0] if self.family in WORD_FAMILIES else self.max_symbols

    def draw(self, rng: np.random.Generator) -> str:
        """One random key in the family's --key syntax."""
        chars = self.alphabet
        if self.family == "caesar":
            return str(int(rng.integers(0, self.m)))
        if self.family == "affine":
            units = [a for a in range(1, self.m) if math.gcd(a, self.m) == 1]
            return f"{units[int(rng.integers(0, len(units)))]},{int(rng.integers(0, self.m))}"
        if self.family == "substitution":
            return "".join(chars[i] for i in rng.permutation(self.m))
        lo, hi = self.key_length
        n = int(rng.integers(lo, hi + 1))
        return "".join(chars[i] for i in rng.integers(0, self.m, size=n))

    def is_held_out(self, key: str) -> bool:
        if not self.holds_out:
            return False
        digest = hashlib.blake2b(
            f"{self.family}\0{self.alphabet}\0{key}".encode(), digest_size=8
        ).digest()
        return int.from_bytes(digest, "big") % HASH_BUCKETS < HELD_OUT_BUCKETS

    def draw_cipher(self, rng: np.random.Generator, held_out: bool) -> Cipher:
        """A cipher under a random key from the training part (or the held-out part)."""
        while True:
            cipher = get_cipher(self.family, key=self.draw(rng), alphabet=self.alphabet)
            if not self.holds_out or self.is_held_out(str(cipher.key)) == held_out:
                return cipher


def key_symbols(cipher: Cipher) -> list[int]:
    """The key as a sequence of alphabet indices, the form a given-mode model reads.

    Shifts and affine pairs are numbers below the alphabet size, so each is one symbol; a
    substitution key is its table; a key word is its letters.
    """
    name = cipher.name
    if name == "caesar":
        return [cipher.shift]  # type: ignore[attr-defined]
    if name == "affine":
        return [cipher.a, cipher.b]  # type: ignore[attr-defined]
    if name == "substitution":
        return [int(i) for i in cipher.table]  # type: ignore[attr-defined]
    if name in WORD_FAMILIES:
        return list(cipher.shifts)  # type: ignore[attr-defined]
    raise UserError(f"{name} keys cannot be given to a model; use --key-mode fixed")


def key_text(family: str, alphabet: str, symbols: list[int]) -> str:
    """The inverse of `key_symbols`: symbols as the family's --key syntax."""
    if family == "caesar":
        return str(symbols[0])
    if family == "affine":
        return f"{symbols[0]},{symbols[1]}"
    if family == "substitution" or family in WORD_FAMILIES:
        return "".join(alphabet[i] for i in symbols)
    raise UserError(f"{family} keys are not read as symbols")
