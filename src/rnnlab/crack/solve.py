"""`crack`: from a ciphertext (and maybe a family name) to plaintext, key and score.

The searches read at most ANALYSIS_LETTERS letters (identification, which runs every
family's attack, IDENTIFY_LETTERS) — far more than any of them needs — so a long text
costs one decryption pass, not a longer search. The key found is then applied to the
whole text through the cipher registry, which also puts back every non-letter and each
letter's case. `time_limit` bounds the search; that last pass is linear in the text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.ciphers import LATIN, cipher_class, get_cipher
from rnnlab.crack.attacks import attack_for, attacks
from rnnlab.crack.identify import (
    NO_ATTACK,
    Identification,
    attack_family,
    clear_winner,
    close_to_best,
    identify,
)
from rnnlab.crack.letters import Letters
from rnnlab.crack.ngrams import NgramModel, load_model
from rnnlab.crack.result import AttackResult, Deadline
from rnnlab.errors import UserError

ANALYSIS_LETTERS = 10_000
IDENTIFY_LETTERS = 2_000  # every family's attack runs on these; ample for all of them
# Below SHORT_TEXT letters only the cheap families whose shortest text allows are tried
# (exhaustive ones, and the key-word ones from 20 letters), and one must fit clearly;
# below MIN_LETTERS_TO_IDENTIFY not even that (benchmarks/crack/short_margin.py: at 12
# letters a clear fit is now and then a wrong one, and 4 in 10 cheap texts go unread).
MIN_LETTERS_TO_IDENTIFY = 15
SHORT_TEXT = 40
# Below this, keyword and substitution ciphertexts rarely decide (benchmarks/crack: at 40
# letters about half are left undecided; at 100, 1 in 30 or fewer).
DECIDES_ALL_FAMILIES = 100


@dataclass
class CrackResult:
    cipher: str
    key: Any
    plaintext: str
    per_letter: float  # mean n-gram log-probability per letter, nats (English ~ -2.1)
    method: str
    identified: Identification | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out = {
            "cipher": self.cipher,
            "key": self.key,
            "alphabet": LATIN,
            "plaintext": self.plaintext,
            "score": round(self.per_letter, 4),
            "method": self.method,
        }
        if self.identified is not None:
            out["identified"] = {
                "family": self.identified.family,
                "confidence": round(self.identified.confidence, 4),
            }
        return out


def no_attack_message(name: str) -> str:
    return (
        f"rnnlab has no classical attack for {name}; train a decipher model on {name} with "
        f"`key_mode` unknown and crack with it (`model` DIR)"
    )


def min_letters(name: str) -> int:
    """The shortest text `crack --cipher NAME` takes (the family's own figure)."""
    cls = cipher_class(name)  # an unregistered name: the registry's own error
    if attack_for(name) is None or cls.min_crack_letters is None:
        raise UserError(no_attack_message(name))
    return cls.min_crack_letters


def letters_of(text: str, needed: int, what: str) -> Letters:
    letters = Letters.of(text)
    if not text.strip():
        raise UserError("no ciphertext given (empty input)")
    if len(letters) == 0:
        raise UserError("the text has no letters A-Z to work on")
    if len(letters) < needed:
        raise UserError(
            f"only {len(letters)} letters: too short to {what} (needs at least {needed})"
        )
    return letters


def crack(
    text: str,
    cipher: str | None = None,
    time_limit: float | None = 30.0,
    seed: int = 0,
    corpus: str | Path | None = None,
    on_restart: Callable[[int, float], None] | None = None,
    model_dir: str | Path | None = None,
    hybrid: bool = False,
) -> CrackResult:
    """Break `text`. With `model_dir`, a trained decipher model reads it (`hybrid`: the
    model's reading seeds the substitution search instead)."""
    deadline = Deadline(time_limit)
    if model_dir is not None:
        return crack_with_model(text, model_dir, hybrid, deadline, seed, corpus, cipher)
    if hybrid:
        raise UserError("`hybrid` needs `model` DIR (the network whose reading seeds the search)")
    if cipher is not None:
        letters = letters_of(text, min_letters(cipher), f"break {cipher}")
    else:
        letters = letters_of(text, MIN_LETTERS_TO_IDENTIFY, "identify the cipher")
    model = load_model(corpus)
    ids = letters.ids[:ANALYSIS_LETTERS]
    identified = None
    if cipher is not None:
        result = attack_family(cipher, ids, model, deadline, seed, on_restart)
    elif len(letters) < SHORT_TEXT:
        identified = identify_short(ids, model, deadline, seed)
        result = identified.result
    else:
        identified = identify(ids[:IDENTIFY_LETTERS], model, deadline, seed)
        if identified.family == NO_ATTACK and len(letters) < DECIDES_ALL_FAMILIES:
            raise UserError(
                f"only {len(letters)} letters and no cheap cipher (Caesar, affine, atbash) "
                f"fits: too short to decide among the others; name it with `cipher` or give "
                f"at least {DECIDES_ALL_FAMILIES} letters"
            )
        if identified.family == NO_ATTACK:
            raise UserError(
                f"no registered family's attack reads this as the language (best guess: "
                f"{NO_ATTACK} or another cipher without a classical attack, confidence "
                f"{identified.confidence:.0%}); {no_attack_message(NO_ATTACK)}"
            )
        result = identified.result
    return finish(text, letters, result, model, identified)


def identify_short(
    ids: np.ndarray, model: NgramModel, deadline: Deadline, seed: int
) -> Identification:
    """Identify a text under SHORT_TEXT letters among the cheap families long enough to
    try; refuse, naming the families still possible, unless one fits clearly."""
    n = len(ids)
    tried = [
        a.family for a in attacks() if a.identifies and not a.slow and min_letters(a.family) <= n
    ]
    found = identify(ids, model, deadline, seed, families=tried)
    if clear_winner(found):
        return found
    # An exhaustive attack that found no reading rules its family out; a key-word search
    # on a short text tries only short keys, so its family stays possible.
    close = close_to_best(found)
    possible = [f for f in tried if f in close or not attack_for(f).exhaustive]
    possible += [a.family for a in attacks() if a.identifies and a.family not in tried]
    possible += [NO_ATTACK] if NO_ATTACK in close else []
    raise UserError(
        f"only {n} letters and no cipher fits clearly (tried {', '.join(tried)}); still "
        f"possible: {', '.join(possible)}; name it with `cipher` or give at least "
        f"{SHORT_TEXT} letters"
    )


def crack_with_model(
    text: str,
    model_dir: str | Path,
    hybrid: bool,
    deadline: Deadline,
    seed: int,
    corpus: str | Path | None,
    cipher: str | None = None,
) -> CrackResult:
    from rnnlab.crack.neural import hybrid_substitution, model_family, neural_attack

    if cipher is not None and cipher != (family := model_family(model_dir)):
        # the network reads the family it was trained on, whatever it is told
        raise UserError(
            f"`cipher` {cipher} does not match the model in {model_dir}, which was trained "
            f"on {family}; drop `cipher`, or use a model trained on {cipher}"
        )
    letters = letters_of(text, 1, "read")
    model = load_model(corpus)
    if hybrid:
        letters = letters_of(text, min_letters("substitution"), "break substitution")
        result = hybrid_substitution(
            model_dir, letters.ids[:ANALYSIS_LETTERS], model, deadline, seed
        )
        return finish(text, letters, result, model, None)
    result = neural_attack(model_dir, letters.ids, model)
    return CrackResult(
        cipher=result.cipher,
        key=None,
        plaintext=letters.restore(result.plain_ids),
        per_letter=result.per_letter,
        method="neural",
    )


def finish(
    text: str,
    letters: Letters,
    result: AttackResult,
    model: NgramModel,
    identified: Identification | None,
) -> CrackResult:
    """Apply the found key to the whole text through the registry."""
    plaintext = get_cipher(result.cipher, key=result.key, alphabet=LATIN).decrypt(text)
    return CrackResult(
        cipher=result.cipher,
        key=result.key,
        plaintext=plaintext,
        per_letter=model.per_letter(Letters.of(plaintext).ids),
        method=result.method,
        identified=identified,
        details=result.details,
    )
