"""Which cipher family made this ciphertext? Attack with each, then weigh the evidence.

Every family's attack returns its best decryption and that plaintext's n-gram
log-likelihood. Comparing those alone would always favour the most flexible family (a
substitution key can reproduce any Caesar decryption, and then tweak it), so each
family pays for its key space, as in a minimum-description-length or BIC comparison:

    evidence(f) = log P(best plaintext) - log |keys of f|

A "no family fits" hypothesis — ciphertext letters uniform at random, which is what an
Enigma (or any cipher rnnlab cannot attack classically) looks like to these statistics —
competes with log(1/26) per letter. The softmax of the evidence is the confidence.

Substitution is only attacked when the ciphertext keeps the language's letter
coincidence rate (a monoalphabetic cipher only relabels letters) and no cheaper
monoalphabetic family already reads as the language: it is the slow search.

The families that compete are those with a registered attack (crack/attacks.py); each
one's key-space size is its cipher class's `key_nats`.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from rnnlab.ciphers import cipher_class
from rnnlab.crack.attacks import OnRestart, attack_for, attacks
from rnnlab.crack.letters import M, index_of_coincidence
from rnnlab.crack.ngrams import ORDER, NgramModel
from rnnlab.crack.periodic import MAX_PERIOD
from rnnlab.crack.result import AttackResult, Deadline

NO_ATTACK = "enigma"  # the registered family that only the "no fit" hypothesis stands for
MONO_IOC = 0.052  # between uniform letters (0.038) and English (0.066)
READS_AS_LANGUAGE = -3.0  # nats per letter; English scores about -2.1, wrong keys below -4
# A short text's answer must be 1000 times likelier than any different reading. Chosen on
# held-out Austen (benchmarks/crack/short_margin.py): from 15 letters on it answered none
# of 2,500 texts of other families, where log 100 answered 1 wrongly at 15 letters.
CLEAR_MARGIN = math.log(1000)


def key_space_nats(result: AttackResult) -> float:
    """log |K| for the family, with the found key length for the keyword ciphers (and a
    uniform prior over lengths 1..MAX_PERIOD)."""
    family = cipher_class(result.cipher)
    n = len(str(result.key))
    nats = family.key_nats(M, (n, n))  # the length matters to key words only
    return nats + math.log(MAX_PERIOD) if family.key_is_word else nats


@dataclass
class Identification:
    family: str
    confidence: float
    evidence: dict[str, float]  # family -> evidence, nats
    results: dict[str, AttackResult]  # family -> its best decryption

    @property
    def result(self) -> AttackResult | None:
        return self.results.get(self.family)


def attack_family(
    name: str,
    ids: np.ndarray,
    model: NgramModel,
    deadline: Deadline,
    seed: int = 0,
    on_restart: OnRestart | None = None,
) -> AttackResult:
    """The classical attack for one registered family (callers check the name first)."""
    attack = attack_for(name)
    if attack is None:
        raise ValueError(f"no classical attack for {name!r}")
    return attack.run(name, ids, model, deadline, seed, on_restart)


def attack_all(
    ids: np.ndarray,
    model: NgramModel,
    deadline: Deadline,
    seed: int = 0,
    families: Collection[str] | None = None,
) -> dict[str, AttackResult]:
    """Every competing family's best decryption (`families`: only these)."""
    competing = [
        a for a in attacks() if a.identifies and (families is None or a.family in families)
    ]
    results = {
        a.family: attack_family(a.family, ids, model, deadline) for a in competing if not a.slow
    }
    mono = [results[a.family].per_letter for a in competing if a.exhaustive]
    mono_fits = max(mono, default=-math.inf)
    if index_of_coincidence(ids) >= MONO_IOC and mono_fits < READS_AS_LANGUAGE:
        for a in competing:  # the slow search: substitution's hill climbing
            if a.slow:
                results[a.family] = attack_family(a.family, ids, model, deadline, seed)
    return results


def identify(
    ids: np.ndarray,
    model: NgramModel,
    deadline: Deadline,
    seed: int = 0,
    families: Collection[str] | None = None,
) -> Identification:
    """The family with the most evidence, among every family with an attack (or only
    `families`) and the "no family fits" hypothesis."""
    results = attack_all(ids, model, deadline, seed, families)
    evidence = {name: r.score - key_space_nats(r) for name, r in results.items()}
    scored_letters = max(1, len(ids) - ORDER + 1)
    evidence[NO_ATTACK] = scored_letters * math.log(1 / M)
    names = list(evidence)
    values = np.array([evidence[n] for n in names])
    weights = np.exp(values - values.max())
    posterior = weights / weights.sum()
    best = int(np.argmax(values))
    return Identification(names[best], float(posterior[best]), evidence, results)


def clear_winner(found: Identification, margin: float = CLEAR_MARGIN) -> bool:
    """Whether the best family's reading beats every *different* reading, and "no family
    fits", by `margin` nats. Families that read the text alike do not compete: a Caesar
    shift is also an affine key (A = 1), so affine always trails caesar by at most log 12
    on a Caesar text, and an atbash text is an affine one too (25,25)."""
    if found.family == NO_ATTACK:
        return False
    plain = found.results[found.family].plain_ids
    rivals = [
        value
        for name, value in found.evidence.items()
        if name == NO_ATTACK
        or (name != found.family and not np.array_equal(found.results[name].plain_ids, plain))
    ]
    return found.evidence[found.family] - max(rivals) >= margin


def close_to_best(found: Identification, margin: float = CLEAR_MARGIN) -> list[str]:
    """The hypotheses (families, or NO_ATTACK) within `margin` nats of the best one."""
    top = max(found.evidence.values())
    return [name for name, value in found.evidence.items() if value >= top - margin]
