"""How well can *any* learner decrypt 320-character Enigma messages after training on
32-character ones? An upper bound, by counting machines the training data cannot tell apart.

Fixed settings, every message from the start position: in the first 100 key presses of
rotors I-II-III at AAA the left rotor never moves (the middle rotor reaches its notch E on
press 100, and the double step moves the left rotor on press 101). While the left rotor
stands still the machine only ever uses L^-1 U L (left wiring, reflector, left wiring back)
as one fixed map, so any other left wiring L' with the reflector U' = L' L^-1 U L L'^-1 (a
conjugate of a fixed-point-free involution: a valid reflector) makes a twin machine that
encrypts every training message exactly as the real one does. After press 101 the twins
part ways. Training data of length <= 100 is the same for every twin, so a learner's
decryption function is too; and with uniform random plaintext (the enigma_fixed runs'),
a test ciphertext is uniform random letters whichever twin made it, so it says nothing
about which twin that was. Over twins drawn at random, a learner's expected accuracy at a
position is therefore at most that of the best fixed guess: decrypt each ciphertext letter
as the plaintext letter most twins give it there. That is what this script measures
(in-sample over the twins drawn, which overstates it slightly: a safe upper bound; and on
held-out twins, an estimate of the true value).

Usage: python benchmarks/decipher_families/enigma_bound.py [--twins 1000] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import platform

import numpy as np

from rnnlab.ciphers import get_cipher
from rnnlab.ciphers.enigma import Enigma


def twin(real: Enigma, left_wiring: list[int]) -> Enigma:
    """A machine equal to `real` except for its left rotor's wiring and its reflector,
    chosen so that the two agree while the left rotor stands at its start position."""
    other = get_cipher("enigma", key=real.key)
    assert isinstance(other, Enigma)
    p = real.settings.start[0]
    shift = (ord(p) - ord("A")) - real.rings[0]

    # The left rotor at rest, as a permutation of contacts: x -> W[(x+s)%26] - s.
    def rotor(w: list[int]) -> np.ndarray:
        return np.array([(w[(x + shift) % 26] - shift) % 26 for x in range(26)])

    old, new = rotor(real.wirings[0]), rotor(left_wiring)
    old_inv, new_inv = np.argsort(old), np.argsort(new)
    # The fixed map the middle rotor sees: old^-1 . U . old (applied right to left).
    seen = old_inv[np.array(real.reflector)[old]]
    reflector = new[seen[new_inv]]  # U' with new^-1 . U' . new = seen
    other.wirings = [list(left_wiring), *real.wirings[1:]]
    other.inverse = [[left_wiring.index(i) for i in range(26)], *real.inverse[1:]]
    other.reflector = [int(v) for v in reflector]
    return other


def tables(machine: Enigma, length: int) -> np.ndarray:
    """enc[t, p]: the ciphertext letter for plaintext letter p at position t (Enigma is its
    own inverse at every position, so this is also the decryption table)."""
    return np.stack([machine.encrypt_indices([p] * length) for p in range(26)], axis=1)


def twin_tables(real: Enigma, twins: int, length: int, seed: int) -> np.ndarray:
    """(twins, length, 26): the tables of `twins` random twins of `real`."""
    rng = np.random.default_rng(seed)
    return np.stack(
        [tables(twin(real, [int(v) for v in rng.permutation(26)]), length) for _ in range(twins)]
    )


def best_guess_accuracy(fit: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Per position: the accuracy, on the twins `test`, of decrypting each ciphertext letter
    as the plaintext letter most twins in `fit` give it. With fit = test this is the
    in-sample maximum, which overstates the true maximum (a safe upper bound); with
    disjoint halves it estimates the true one."""
    twins, length, _ = fit.shape
    counts = np.zeros((length, 26, 26))  # [t, ciphertext c, plaintext p]
    t_index = np.arange(length)[:, None]
    for table in fit:
        np.add.at(counts, (t_index, table, np.arange(26)[None, :]), 1)
    choice = counts.argmax(-1)  # [t, c]: the most common plaintext for c at t
    hits = np.zeros(length)
    for table in test:
        # plaintext p encrypts to c = table[t, p]; the guess for c is choice[t, c]
        hits += (choice[t_index, table] == np.arange(26)[None, :]).mean(-1)
    return hits / len(test)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twins", type=int, default=1000)
    parser.add_argument("--length", type=int, default=320)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the result here")
    args = parser.parse_args()
    real = get_cipher("enigma")
    assert isinstance(real, Enigma)
    mine = tables(real, args.length)
    theirs = twin_tables(real, args.twins, args.length, args.seed)
    agree = (theirs == mine[None]).mean(axis=(0, 2))  # per position
    first_difference = int(np.argmax(agree < 1.0))
    upper = best_guess_accuracy(theirs, theirs)
    half = args.twins // 2
    held_out = best_guess_accuracy(theirs[:half], theirs[half:])
    lengths = [n for n in (32, 64, 100, 128, 160, 320) if n <= args.length]
    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "settings": real.key,
        "plaintext": "uniform random letters (as in the enigma_fixed runs)",
        "twins": args.twins,
        "first_position_where_twins_differ": first_difference,  # 0-based
        "agreement_after_that": float(agree[first_difference:].mean()),
        "best_guess_after_that_upper": float(upper[first_difference:].mean()),
        "best_guess_after_that_split_half": float(held_out[first_difference:].mean()),
        # the upper bound on any learner's expected accuracy over messages of n letters
        "bound": {str(n): float(upper[:n].mean()) for n in lengths},
        "bound_split_half_estimate": {str(n): float(held_out[:n].mean()) for n in lengths},
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
