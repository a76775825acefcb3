"""Neural attacks: a `decipher` model trained without the key (`--key-mode unknown`)
reads the ciphertext and writes the plaintext; the hybrid hands its reading to the
classical search as a starting point.

The network's output is a plaintext, not a key. For a monoalphabetic cipher the key is
recovered by majority vote — each ciphertext letter maps to the plaintext letter the
network most often wrote for it — which both repairs the network's scattered mistakes
and gives hill climbing a start near the optimum.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.ciphers import LATIN
from rnnlab.crack.letters import LETTERS, M
from rnnlab.crack.ngrams import NgramModel
from rnnlab.crack.result import AttackResult, Deadline
from rnnlab.crack.substitution import attack_substitution, encryption_key
from rnnlab.errors import UserError


def model_family(model_dir: str | Path) -> str:
    """The cipher family a decipher model was trained on, from its config.json."""
    from rnnlab import checkpoint as ckpt

    spec = ckpt.read_config(model_dir)["data"].get("cipher_spec") or {}
    return spec.get("name", "unknown")


def network_reading(model_dir: str | Path, ids: np.ndarray) -> tuple[str, np.ndarray]:
    """(the model's cipher family, its plaintext letters for `ids`)."""
    from rnnlab import decipher  # torch is imported only when a model is used

    loaded = decipher.load(model_dir, device="cpu")
    spec = loaded.config["data"].get("cipher_spec") or {}
    family = spec.get("name", "unknown")
    text = "".join(LATIN[i] for i in ids)
    if loaded.in_vocab.unknown_chars(text):
        raise UserError(
            f"{model_dir}: the model was not trained on the letters A-Z (its alphabet is "
            f"{spec.get('alphabet', '?')!r}); crack works on A-Z"
        )
    plain = decipher.decrypt(loaded, text)
    found = [LETTERS.lookup(ch) for ch in plain]
    if any(f is None for f in found):
        raise UserError(f"{model_dir}: the model writes symbols outside A-Z; crack needs A-Z")
    return family, np.array([f[0] for f in found], dtype=np.int64)


def neural_attack(model_dir: str | Path, ids: np.ndarray, model: NgramModel) -> AttackResult:
    family, plain = network_reading(model_dir, ids)
    return AttackResult(
        family, None, plain, float(model.score(plain)), model.per_letter(plain), method="neural"
    )


def majority_table(cipher_ids: np.ndarray, plain_ids: np.ndarray) -> np.ndarray:
    """A decryption table (a permutation) from aligned letters: the most frequent pairs
    claim their letters first; letters the text never shows fill the gaps in order."""
    counts = np.zeros((M, M), dtype=np.int64)
    np.add.at(counts, (cipher_ids, plain_ids), 1)
    table = np.full(M, -1, dtype=np.int64)
    used = np.zeros(M, dtype=bool)
    for flat in np.argsort(-counts, axis=None, kind="stable"):
        c, p = divmod(int(flat), M)
        if counts[c, p] == 0:
            break
        if table[c] < 0 and not used[p]:
            table[c], used[p] = p, True
    table[table < 0] = np.flatnonzero(~used)
    return table


def hybrid_substitution(
    model_dir: str | Path, ids: np.ndarray, model: NgramModel, deadline: Deadline, seed: int = 0
) -> AttackResult:
    _, plain = network_reading(model_dir, ids)
    start = majority_table(ids, plain)
    result = attack_substitution(ids, model, deadline, seed=seed, start=start)
    result.method = "hybrid"
    result.details["network_key"] = encryption_key(start)
    return result
