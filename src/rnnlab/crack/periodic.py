"""Keyword ciphers: Vigenère and Beaufort (a key word repeated), autokey (the key word,
then the plaintext itself).

Vigenère / Beaufort: the key's length (the period) is estimated from the index of
coincidence of the columns — letters a period apart share one shift, so each column reads
with English's coincidence rate only at the right period — with Kasiski's repeated
trigrams as a second vote. Each column is then one Caesar shift, chosen by chi-squared
against the language's letter frequencies, and the key is refined letter by letter with
the quadgram score, which sees across columns.

Autokey has no period in its ciphertext, but each key letter starts its own chain
P[t] = C[t] - P[t - L], so for every key length L each column still has only 26 candidate
decryptions: the same column-wise solve works, tried for each L.
"""

from __future__ import annotations

import numpy as np

from rnnlab.crack.attacks import OnRestart, breaks
from rnnlab.crack.letters import LETTERS, M, index_of_coincidence
from rnnlab.crack.ngrams import NgramModel
from rnnlab.crack.result import AttackResult, Deadline

MAX_PERIOD = 20
ENGLISH_IOC = 0.066
RANDOM_IOC = 1 / M


def column_ioc(ids: np.ndarray, period: int) -> float:
    return float(np.mean([index_of_coincidence(ids[j::period]) for j in range(period)]))


def kasiski_votes(ids: np.ndarray, max_period: int) -> np.ndarray:
    """For each period, the fraction of distances between repeated trigrams it divides."""
    seen: dict[tuple[int, int, int], int] = {}
    distances = []
    for i in range(len(ids) - 2):
        tri = (int(ids[i]), int(ids[i + 1]), int(ids[i + 2]))
        if tri in seen:
            distances.append(i - seen[tri])
        seen[tri] = i
    votes = np.zeros(max_period + 1)
    if distances:
        d = np.array(distances)
        for period in range(2, max_period + 1):
            votes[period] = float(np.mean(d % period == 0))
    return votes


def candidate_periods(ids: np.ndarray, limit: int = 4) -> list[int]:
    """Likely key lengths, best first. Multiples of the true period score as well as the
    period itself, so a period is preferred over its multiples when it is nearly as good."""
    top = max(1, min(MAX_PERIOD, len(ids) // 6))  # a column needs a few letters to count
    ioc = {p: column_ioc(ids, p) for p in range(1, top + 1)}
    votes = kasiski_votes(ids, top)
    # Normalised so random text is ~0 and English ~1, plus a small Kasiski bonus.
    strength = {
        p: (ioc[p] - RANDOM_IOC) / (ENGLISH_IOC - RANDOM_IOC) + 0.25 * votes[p] for p in ioc
    }
    best = max(strength.values())
    ranked = sorted(ioc, key=lambda p: (strength[p] < 0.85 * best, -strength[p]))
    return ranked[:limit]


def chi_squared_shift(column: np.ndarray, decrypt, expected: np.ndarray) -> int:
    """The key letter whose decryption of `column` has letter counts closest to the
    language's (Pearson's chi-squared)."""
    n = len(column)
    best, best_chi = 0, np.inf
    for k in range(M):
        counts = np.bincount(decrypt(column, k), minlength=M)
        chi = float(((counts - n * expected) ** 2 / (n * expected)).sum())
        if chi < best_chi:
            best, best_chi = k, chi
    return best


def _vigenere(c, k):
    return (c - k) % M


def _beaufort(c, k):
    return (k - c) % M


DECRYPTS = {"vigenere": _vigenere, "beaufort": _beaufort}


def periodic_plain(name: str, ids: np.ndarray, key: list[int]) -> np.ndarray:
    shifts = np.resize(np.array(key), len(ids))
    return DECRYPTS[name](ids, shifts)


def refine_key(
    key: list[int], plain: np.ndarray, column_options, model: NgramModel, sweeps: int = 4
) -> tuple[list[int], np.ndarray, float]:
    """Coordinate ascent: change one key letter at a time to whichever of the 26 raises
    the quadgram score most; stop when a sweep changes nothing.

    A key letter only touches its own column (positions j, j + L, ...), so the 26
    candidate plaintexts are the current one with that column swapped for each option
    from `column_options(j)` (26, column length).
    """
    key, plain = list(key), plain.copy()
    period = len(key)
    score = float(model.score(plain))
    for _ in range(sweeps):
        changed = False
        for j in range(period):
            candidates = np.repeat(plain[None, :], M, axis=0)
            candidates[:, j::period] = column_options(j)
            scores = np.asarray(model.score(candidates))
            k = int(np.argmax(scores))
            if scores[k] > score + 1e-6:
                key[j], plain, score, changed = k, candidates[k], float(scores[k]), True
        if not changed:
            break
    return key, plain, score


def minimal_period(key: list[int]) -> list[int]:
    """ABCABC and ABC encrypt alike; report the shortest form."""
    for p in range(1, len(key) + 1):
        if len(key) % p == 0 and key == key[:p] * (len(key) // p):
            return key[:p]
    return key


def key_word(key: list[int]) -> str:
    return "".join(LETTERS.chars[k] for k in key)


def best_over_periods(
    family: str, periods, solve, model: NgramModel, deadline: Deadline
) -> AttackResult:
    """Solve for each candidate key length (`solve(p)` -> key, plaintext, score) and keep
    the decryption that scores best; stop early when time is up."""
    best: AttackResult | None = None
    for p in periods:
        key, plain, score = solve(p)
        if best is None or score > best.score + 1e-6:
            details = {"period": len(key)}
            best = AttackResult(
                family, key_word(key), plain, score, model.per_letter(plain), details=details
            )
        if deadline.expired():
            break
    assert best is not None, "no period to try"
    return best


def attack_periodic(
    name: str, ids: np.ndarray, model: NgramModel, deadline: Deadline, period: int | None = None
) -> AttackResult:
    decrypt = DECRYPTS[name]

    def solve(p: int):
        key = [chi_squared_shift(ids[j::p], decrypt, model.unigram) for j in range(p)]
        options = lambda j: decrypt(ids[None, j::p], np.arange(M)[:, None])  # noqa: E731
        key, plain, score = refine_key(key, periodic_plain(name, ids, key), options, model)
        return minimal_period(key), plain, score

    return best_over_periods(
        name, [period] if period else candidate_periods(ids), solve, model, deadline
    )


@breaks(*DECRYPTS)
def _periodic(
    name: str,
    ids: np.ndarray,
    model: NgramModel,
    deadline: Deadline,
    seed: int = 0,
    on_restart: OnRestart | None = None,
) -> AttackResult:
    return attack_periodic(name, ids, model, deadline)


# -- autokey ----------------------------------------------------------------------------


def autokey_plain(ids: np.ndarray, key: list[int]) -> np.ndarray:
    """Decrypt letter ids under an autokey key word (P = C - K, K = key word + P)."""
    period = len(key)
    plain = np.empty_like(ids)
    plain[:period] = (ids[:period] - np.array(key[: len(ids)])) % M
    for start in range(period, len(ids), period):
        stop = min(start + period, len(ids))
        plain[start:stop] = (ids[start:stop] - plain[start - period : stop - period]) % M
    return plain


def autokey_column_candidates(ids: np.ndarray, period: int, j: int) -> np.ndarray:
    """(26, column length): column j's plaintext for each choice of its key letter."""
    column = ids[j::period]
    out = np.empty((M, len(column)), dtype=np.int64)
    out[:, 0] = (column[0] - np.arange(M)) % M
    for m in range(1, len(column)):
        out[:, m] = (column[m] - out[:, m - 1]) % M
    return out


def attack_autokey(
    ids: np.ndarray, model: NgramModel, deadline: Deadline, period: int | None = None
) -> AttackResult:
    log_p = model.log_unigram

    def solve(p: int):
        options = [autokey_column_candidates(ids, p, j) for j in range(p)]
        key = [int(np.argmax(log_p[o].sum(axis=1))) for o in options]
        return refine_key(key, autokey_plain(ids, key), options.__getitem__, model)

    top = max(1, min(MAX_PERIOD, len(ids) // 4))
    return best_over_periods(
        "autokey", [period] if period else range(1, top + 1), solve, model, deadline
    )


@breaks("autokey")
def _autokey(
    name: str,
    ids: np.ndarray,
    model: NgramModel,
    deadline: Deadline,
    seed: int = 0,
    on_restart: OnRestart | None = None,
) -> AttackResult:
    return attack_autokey(ids, model, deadline)
