"""Random keys per cipher family, the key as symbols a model can read, and which keys are
held out for evaluation.

`--key-mode given|unknown` draws a fresh key for every message. Each family's class says
how (`Cipher.random_key`); today:

    caesar                      a shift 0 … m-1
    affine                      A coprime to m, B in 0 … m-1
    substitution                a uniform random permutation of the alphabet
    vigenere, beaufort, autokey a word of uniform length in --key-length LO-HI, letters uniform
    enigma                      a start position (three letters); the machine is --key's

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

import functools
import hashlib
from dataclasses import dataclass

import numpy as np

from rnnlab.ciphers.base import Cipher
from rnnlab.ciphers.registry import cipher_classes, get_cipher
from rnnlab.errors import UserError

HASH_BUCKETS, HELD_OUT_BUCKETS = 1000, 100
MIN_KEYS_TO_HOLD_OUT = 10_000  # smaller key spaces hold nothing out (see above)
DEFAULT_KEY_LENGTH = "3-12"


def random_key_families() -> list[str]:
    """The families that draw random keys, in registration order."""
    return [cls.name for cls in cipher_classes() if cls.random_keys]


def random_key_class(family: str) -> type[Cipher] | None:
    """The family's class when it draws random keys (else None, unknown names too)."""
    found = [cls for cls in cipher_classes() if cls.name == family and cls.random_keys]
    return found[0] if found else None


def parse_key_length(spec: str | None) -> tuple[int, int]:
    """'5' -> (5, 5); '3-12' -> (3, 12)."""
    text = DEFAULT_KEY_LENGTH if spec is None else str(spec).strip()
    lo_s, sep, hi_s = text.partition("-")
    try:
        lo = int(lo_s)
        hi = int(hi_s) if sep else lo
    except ValueError:
        raise UserError(f"`key_length` must look like 5 or 3-12, got {spec!r}") from None
    if lo < 1 or hi < lo:
        raise UserError(f"`key_length` must be 1 or more, low to high, got {spec!r}")
    return lo, hi


@dataclass(frozen=True)
class KeySpace:
    """How to draw random keys of one family over one alphabet."""

    family: str
    alphabet: str
    key_length: tuple[int, int] = (3, 12)  # word families only
    # the settings every message shares (fixed_settings families: the Enigma's machine)
    fixed: str | None = None

    def __post_init__(self) -> None:
        if random_key_class(self.family) is None:
            raise UserError(
                f"--key-mode given/unknown needs random keys, which {self.family} does not have "
                f"here; it works with {', '.join(random_key_families())}"
            )
        if self.family_class.fixed_settings:
            self.cipher(self.draw(np.random.default_rng(0)))  # a bad machine fails now
        elif self.fixed is not None:
            raise UserError(
                f"--key-mode given/unknown draws a random {self.family} key per message; drop --key"
            )

    @property
    def family_class(self) -> type[Cipher]:
        cls = random_key_class(self.family)
        assert cls is not None  # checked in __post_init__
        return cls

    @property
    def m(self) -> int:
        return len(self.alphabet)

    @property
    def size(self) -> int:
        """Number of distinct keys this space draws from."""
        return self.family_class.key_count(self.m, self.key_length)

    @property
    def holds_out(self) -> bool:
        return self.size >= MIN_KEYS_TO_HOLD_OUT

    @property
    def max_symbols(self) -> int:
        """The longest key as symbols (what a given-mode model must make room for)."""
        return self.family_class.key_symbol_range(self.m, self.key_length)[1]

    @property
    def min_symbols(self) -> int:
        """The shortest key as symbols (only key words vary in length)."""
        return self.family_class.key_symbol_range(self.m, self.key_length)[0]

    def draw(self, rng: np.random.Generator) -> str:
        """One random key in the family's --key syntax."""
        return self.family_class.random_key(rng, self.alphabet, self.key_length)

    def is_held_out(self, key: str) -> bool:
        if not self.holds_out:
            return False
        digest = hashlib.blake2b(
            f"{self.family}\0{self.alphabet}\0{key}".encode(), digest_size=8
        ).digest()
        return int.from_bytes(digest, "big") % HASH_BUCKETS < HELD_OUT_BUCKETS

    def cipher(self, key: str) -> Cipher:
        """The cipher of one message's key (with the fixed settings, where they apply)."""
        return _cipher(self, key)

    def draw_cipher(self, rng: np.random.Generator, held_out: bool) -> Cipher:
        """A cipher under a random key from the training part (or the held-out part)."""
        while True:
            cipher = self.cipher(self.draw(rng))
            if not self.holds_out or self.is_held_out(str(cipher.key)) == held_out:
                return cipher


@functools.lru_cache(maxsize=2**15)
def _cipher(space: KeySpace, key: str) -> Cipher:
    # Cached: building a cipher (parsing its key, its tables) costs more than encrypting a
    # short message, and a small key space (the Enigma's 17,576 starts) repeats keys.
    if space.family_class.fixed_settings:
        key = space.family_class.message_key(space.fixed, key)
    return get_cipher(space.family, key=key, alphabet=space.alphabet)


def key_symbols(cipher: Cipher) -> list[int]:
    """The key as a sequence of alphabet indices, the form a given-mode model reads.

    Shifts and affine pairs are numbers below the alphabet size, so each is one symbol; a
    substitution key is its table; a key word is its letters.
    """
    if not cipher.random_keys:
        raise UserError(f"{cipher.name} keys cannot be given to a model; use `key_mode` fixed")
    return cipher.key_symbols()


def key_text(family: str, alphabet: str, symbols: list[int]) -> str:
    """The inverse of `key_symbols`: symbols as the family's --key syntax."""
    cls = random_key_class(family)
    if cls is None:
        raise UserError(f"{family} keys are not read as symbols")
    return cls.key_from_symbols(alphabet, symbols)
