"""Ciphers with few keys, tried one by one: Caesar (26 shifts), atbash (1), affine (312),
and ROT13 (Caesar's shift 13 alone).

All three are tables of one fixed permutation, so each candidate key is a 26-entry
decryption table and the whole key space is scored in one vectorised gather.
"""

from __future__ import annotations

import math

import numpy as np

from rnnlab.crack.attacks import OnRestart, breaks
from rnnlab.crack.letters import M
from rnnlab.crack.ngrams import NgramModel
from rnnlab.crack.result import AttackResult, Deadline


def caesar_tables() -> tuple[np.ndarray, list[int]]:
    shifts = list(range(M))
    tables = (np.arange(M)[None, :] - np.array(shifts)[:, None]) % M
    return tables, shifts


def affine_tables() -> tuple[np.ndarray, list[str]]:
    """Decryption tables for every valid key A,B: D(y) = A^-1 (y - B) mod 26."""
    tables, keys = [], []
    for a in range(1, M):
        if math.gcd(a, M) != 1:
            continue
        a_inv = pow(a, -1, M)
        for b in range(M):
            tables.append(a_inv * (np.arange(M) - b) % M)
            keys.append(f"{a},{b}")
    return np.array(tables), keys


def atbash_tables() -> tuple[np.ndarray, list[None]]:
    return (M - 1 - np.arange(M))[None, :], [None]


def rot13_tables() -> tuple[np.ndarray, list[None]]:
    tables, _ = caesar_tables()
    return tables[13:14], [None]


FAMILIES = {
    "caesar": caesar_tables,
    "affine": affine_tables,
    "atbash": atbash_tables,
    "rot13": rot13_tables,
}


def best_table(ids: np.ndarray, tables: np.ndarray, model: NgramModel) -> tuple[int, np.ndarray]:
    """Index of the best decryption table, and every table's score."""
    scores = np.asarray(model.score(tables[:, ids]))
    return int(np.argmax(scores)), scores


# rot13 stays out of identification: caesar's attack already tries its key.
@breaks("rot13", exhaustive=True, identifies=False)
@breaks(*(name for name in FAMILIES if name != "rot13"), exhaustive=True)
def attack(
    name: str,
    ids: np.ndarray,
    model: NgramModel,
    deadline: Deadline | None = None,
    seed: int = 0,
    on_restart: OnRestart | None = None,
) -> AttackResult:
    """The best of every key. (The deadline, seed and progress callback of the attacks'
    common signature go unused: trying every key takes a few milliseconds.)"""
    tables, keys = FAMILIES[name]()
    best, scores = best_table(ids, tables, model)
    plain = tables[best][ids]
    ranked = np.sort(scores)[::-1]
    margin = float(ranked[0] - ranked[1]) if len(ranked) > 1 else math.inf
    return AttackResult(
        name,
        keys[best],
        plain,
        float(scores[best]),
        model.per_letter(plain),
        details={"keys_tried": len(keys), "margin_nats": margin},
    )
