"""Monoalphabetic substitution: hill climbing over keys with random restarts.

A key is a decryption table (ciphertext letter -> plaintext letter). Each climb starts
from a random table (the first from frequency order), and at every move scores all 325
tables one swap away at once — one gather over the ciphertext's distinct quadgrams,
weighted by how often each occurs — then takes the best swap. A climb ends when no swap
helps; the search restarts until the best plaintext has been reached `agree` times
(the usual sign that it is the global optimum), or the time limit.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations

import numpy as np

from rnnlab.crack.attacks import OnRestart, breaks
from rnnlab.crack.letters import LETTERS, M
from rnnlab.crack.ngrams import NgramModel
from rnnlab.crack.result import AttackResult, Deadline

SWAPS = np.array(list(combinations(range(M), 2)))  # (325, 2)


def _swapped_tables(table: np.ndarray) -> np.ndarray:
    """(325, 26): `table` with each pair of entries exchanged."""
    tables = np.repeat(table[None, :], len(SWAPS), axis=0)
    rows = np.arange(len(SWAPS))
    tables[rows, SWAPS[:, 0]] = table[SWAPS[:, 1]]
    tables[rows, SWAPS[:, 1]] = table[SWAPS[:, 0]]
    return tables


class QuadgramObjective:
    """Score of a decryption table, from the ciphertext's distinct quadgrams only."""

    def __init__(self, ids: np.ndarray, model: NgramModel) -> None:
        windows = np.lib.stride_tricks.sliding_window_view(ids, 4)
        self.quads, self.weights = np.unique(windows, axis=0, return_counts=True)
        self.weights = self.weights.astype(np.float32)
        self.model = model

    def __call__(self, tables: np.ndarray) -> np.ndarray:
        """tables (k, 26) -> scores (k,)."""
        plain = tables[:, self.quads]  # (k, q, 4)
        idx = ((plain[..., 0] * M + plain[..., 1]) * M + plain[..., 2]) * M + plain[..., 3]
        return self.model.quad[idx] @ self.weights


def frequency_table(ids: np.ndarray, unigram: np.ndarray) -> np.ndarray:
    """Most frequent ciphertext letter -> most frequent language letter, and so on."""
    cipher_order = np.argsort(-np.bincount(ids, minlength=M), kind="stable")
    plain_order = np.argsort(-unigram, kind="stable")
    table = np.empty(M, dtype=np.int64)
    table[cipher_order] = plain_order
    return table


def climb(
    table: np.ndarray, objective: QuadgramObjective, deadline: Deadline
) -> tuple[np.ndarray, float]:
    """Steepest ascent by swaps, until no swap helps (or time is up: the best so far)."""
    score = float(objective(table[None, :])[0])
    while not deadline.expired():
        neighbours = _swapped_tables(table)
        scores = objective(neighbours)
        best = int(np.argmax(scores))
        if scores[best] <= score + 1e-4:
            return table, score
        table, score = neighbours[best], float(scores[best])
    return table, score


def attack_substitution(
    ids: np.ndarray,
    model: NgramModel,
    deadline: Deadline,
    seed: int = 0,
    start: np.ndarray | None = None,
    agree: int = 3,
    on_restart: Callable[[int, float], None] | None = None,
) -> AttackResult:
    """`start`: a first table to climb from (e.g. a neural model's guess)."""
    rng = np.random.default_rng(seed)
    objective = QuadgramObjective(ids, model)
    best_table, best_score, hits, restarts = None, -np.inf, 0, 0
    first = start if start is not None else frequency_table(ids, model.unigram)
    while True:
        table = first if restarts == 0 else rng.permutation(M)
        table, score = climb(table.copy(), objective, deadline)
        restarts += 1
        if score > best_score + 1e-3:
            best_table, best_score, hits = table, score, 1
        elif score > best_score - 1e-3:
            hits += 1
        if on_restart is not None:
            on_restart(restarts, best_score)
        if hits >= agree or deadline.expired():
            break
    plain = best_table[ids]
    return AttackResult(
        "substitution",
        encryption_key(best_table),
        plain,
        float(model.score(plain)),
        model.per_letter(plain),
        details={"restarts": restarts, "agreeing_climbs": hits},
    )


@breaks("substitution", slow=True)
def _substitution(
    name: str,
    ids: np.ndarray,
    model: NgramModel,
    deadline: Deadline,
    seed: int = 0,
    on_restart: OnRestart | None = None,
) -> AttackResult:
    return attack_substitution(ids, model, deadline, seed=seed, on_restart=on_restart)


def encryption_key(decrypt_table: np.ndarray) -> str:
    """The registry's key form: the ciphertext letters for A, B, C, … in order."""
    return "".join(LETTERS.chars[i] for i in np.argsort(decrypt_table))
