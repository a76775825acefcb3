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
decryption is too; over twins drawn at random, its expected accuracy at a position is at
most the rate at which a random twin agrees with the real machine there.

Usage: python benchmarks/decipher_families/enigma_bound.py [--twins 500] [--json OUT]
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


def agreement_by_position(real: Enigma, twins: int, length: int, seed: int) -> np.ndarray:
    """For each position, the share of (twin, plaintext letter) pairs on which a random twin
    encrypts as the real machine does."""
    rng = np.random.default_rng(seed)
    agree = np.zeros(length)
    for _ in range(twins):
        other = twin(real, [int(v) for v in rng.permutation(26)])
        for letter in range(26):
            message = [letter] * length
            same = np.array(real.encrypt_indices(message)) == np.array(
                other.encrypt_indices(message)
            )
            agree += same
    return agree / (twins * 26)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--twins", type=int, default=500)
    parser.add_argument("--length", type=int, default=320)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the result here")
    args = parser.parse_args()
    real = get_cipher("enigma")
    assert isinstance(real, Enigma)
    agree = agreement_by_position(real, args.twins, args.length, args.seed)
    first_difference = int(np.argmax(agree < 1.0))
    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "settings": real.key,
        "twins": args.twins,
        "first_position_where_twins_differ": first_difference,  # 0-based
        "agreement_after_that": float(agree[first_difference:].mean()),
        "bound": {
            str(n): float(agree[:n].mean())
            for n in (32, 64, 100, 128, 160, 320)
            if n <= args.length
        },
    }
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
