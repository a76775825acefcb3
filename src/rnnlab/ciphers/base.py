"""The shape every cipher shares: length-preserving maps over an Alphabet.

A cipher transforms the sequence of alphabet indices of a text. Characters outside the
alphabet are lifted out first and put back afterwards in their places, so they neither
change nor advance a running key (Vigenère's key letter, Enigma's rotors).

Subclasses implement either the per-symbol pair `encrypt_index` / `decrypt_index` (a
function of the symbol and its position among alphabet symbols) or, for ciphers with state
along the message (autokey, Enigma), the sequence pair `encrypt_indices` /
`decrypt_indices`.

Each family also says what it knows about its keys — how to draw one at random, how many
there are, how a model reads one as symbols, how short a text its classical attack can
break — so that `ciphers/keygen.py` and `crack/` ask the class instead of keeping lists of
family names. The defaults mean "not supported".
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from rnnlab.ciphers.alphabet import Alphabet
from rnnlab.errors import UserError


class Cipher(ABC):
    name: ClassVar[str]
    summary: ClassVar[str]
    default_alphabet: ClassVar[str]

    # -- what the family knows about its keys -------------------------------------------
    # `random_keys`: --key-mode given/unknown can draw keys, and a model can read them as
    # symbols; such a family implements random_key, key_count, key_symbol_range,
    # key_symbols and key_from_symbols.
    random_keys: ClassVar[bool] = False
    # `fixed_settings`: under --key-mode given/unknown the run's --key fixes every setting
    # but the one a message draws (the Enigma's machine, its start position drawn per
    # message); such a family also implements message_key.
    fixed_settings: ClassVar[bool] = False
    # The key is a word of any length (--key-length LO-HI applies), not a fixed-size key.
    key_is_word: ClassVar[bool] = False
    # The shortest ciphertext, in letters, the family's classical attack needs: fewer and
    # the answer is a guess among many equally good ones. None: no classical attack.
    min_crack_letters: ClassVar[int | None] = None

    @classmethod
    def random_key(
        cls, rng: np.random.Generator, alphabet: str, key_length: tuple[int, int]
    ) -> str:
        """One random key in the family's --key syntax (`key_length`: key words only)."""
        raise NotImplementedError(f"{cls.name} has no random keys")

    @classmethod
    def key_count(cls, m: int, key_length: tuple[int, int]) -> int:
        """Number of distinct keys over an alphabet of m symbols."""
        raise NotImplementedError(f"{cls.name} does not count its keys")

    @classmethod
    def key_nats(cls, m: int, key_length: tuple[int, int]) -> float:
        """log key_count: what naming one key costs, the prior of crack's identification."""
        return math.log(cls.key_count(m, key_length))

    @classmethod
    def key_symbol_range(cls, m: int, key_length: tuple[int, int]) -> tuple[int, int]:
        """(fewest, most) symbols a key has when a model reads it."""
        raise NotImplementedError(f"{cls.name} keys are not read as symbols")

    def key_symbols(self) -> list[int]:
        """The key as a sequence of alphabet indices, the form a given-mode model reads."""
        raise NotImplementedError(f"{self.name} keys are not read as symbols")

    @classmethod
    def key_from_symbols(cls, alphabet: str, symbols: list[int]) -> str:
        """The inverse of `key_symbols`: symbols as the family's --key syntax."""
        raise NotImplementedError(f"{cls.name} keys are not read as symbols")

    @classmethod
    def message_key(cls, fixed: str | None, key: str) -> str:
        """The full key of a message drawn under `fixed` settings (fixed_settings only)."""
        raise UserError(f"{cls.name} has no settings that stay fixed while keys are drawn")

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
