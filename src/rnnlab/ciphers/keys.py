"""Parsing keys given as text (`--key …`), with errors that say what is wrong."""

from __future__ import annotations

from typing import Any

from rnnlab.ciphers.alphabet import Alphabet
from rnnlab.errors import UserError


def word_key(cipher: str, key: Any, alphabet: Alphabet) -> list[int]:
    """A key word as alphabet indices (case folded as the alphabet allows)."""
    if key is None or str(key) == "":
        raise UserError(f"{cipher} needs a key word over its alphabet, e.g. `key` LEMON")
    indices = []
    for ch in str(key):
        found = alphabet.lookup(ch)
        if found is None:
            raise UserError(
                f"{cipher} key {key!r}: {ch!r} is not in the alphabet {alphabet.chars!r}"
            )
        indices.append(found[0])
    return indices


def int_list(cipher: str, key: Any, count: int, example: str) -> list[int]:
    if isinstance(key, (list, tuple)):
        parts = list(key)
    else:
        parts = [p for p in str(key).replace(" ", ",").split(",") if p]
    try:
        values = [int(p) for p in parts]
    except (TypeError, ValueError):
        raise UserError(
            f"{cipher} key must be {count} integers like {example}, got {key!r}"
        ) from None
    if len(values) != count:
        raise UserError(f"{cipher} key must be {count} integers like {example}, got {key!r}")
    return values
