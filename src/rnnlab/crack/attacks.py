"""Which classical attack breaks which cipher family: a registry the attack modules fill.

Each attack module declares the families it breaks with `@breaks(...)`, as each cipher
module registers its families; `crack/__init__.py` imports every attack module, so the
registry is complete whenever `rnnlab.crack` is imported. What a family needs from its
attack that belongs to the family itself — the shortest text it can be broken from — is
the cipher class's `min_crack_letters` (in ciphers/).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnlab.crack.ngrams import NgramModel
from rnnlab.crack.result import AttackResult, Deadline

OnRestart = Callable[[int, float], None]
# (family, letter ids, scorer, deadline, seed, on_restart) -> the best decryption found
AttackFn = Callable[[str, np.ndarray, NgramModel, Deadline, int, OnRestart | None], AttackResult]


@dataclass(frozen=True)
class Attack:
    family: str
    run: AttackFn
    # Tries every key: cheap, and its best decryption is the best there is.
    exhaustive: bool = False
    # A long search, which identification runs only when the text's statistics call for it.
    slow: bool = False
    # Competes when the family is not named (rot13 does not: caesar's attack tries its key).
    identifies: bool = True


_ATTACKS: dict[str, Attack] = {}


def breaks(
    *families: str, exhaustive: bool = False, slow: bool = False, identifies: bool = True
) -> Callable[[AttackFn], AttackFn]:
    """Register `run` as the attack on each of `families`."""

    def register(run: AttackFn) -> AttackFn:
        for family in families:
            if family in _ATTACKS:
                raise ValueError(f"two attacks registered for {family!r}")
            _ATTACKS[family] = Attack(family, run, exhaustive, slow, identifies)
        return run

    return register


def attack_for(family: str) -> Attack | None:
    return _ATTACKS.get(family)


def attacks() -> list[Attack]:
    """Every registered attack, in registration order (the order identification runs them)."""
    return list(_ATTACKS.values())


def attacked_families() -> list[str]:
    """The families `crack --cipher` can break."""
    return list(_ATTACKS)
