"""Break held-out English with random keys: rnnlab crack against the baselines.

    python benchmarks/crack/run.py --text pride_and_prejudice.txt --out results-cpu.json

Messages are windows of letters (spaces and punctuation removed, as a cryptanalyst meets
them) from a text the n-gram scorer was NOT built from (the scorer uses the shipped Tiny
Shakespeare). Each cipher gets random keys; each method is timed per message. Reports,
per cipher x method x length: fraction of messages recovered exactly, mean character
accuracy, mean and max seconds. The substitution rows run the published Jakobsen
hill-climbing baseline (PyPI `cipher-solver`, both its solve methods) on the same
messages. Identification is scored as a confusion table (200 letters by default).

With `--short-lengths 15,20,30,40` it adds the short-text table: `rnnlab crack` without
--cipher on texts that short, and for each family how often it named the family, gave the
plaintext exactly, gave a wrong answer, or refused.

With `--models family=DIR,...` (decipher models trained with --key-mode unknown) it adds
the neural and, for substitution, the hybrid rows.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import string
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from rnnlab.ciphers import cipher_names, get_cipher
from rnnlab.crack import crack
from rnnlab.crack.identify import identify
from rnnlab.crack.letters import to_ids
from rnnlab.crack.ngrams import load_model
from rnnlab.crack.result import Deadline
from rnnlab.errors import UserError

A = string.ascii_uppercase
ODD = [a for a in range(1, 26) if a % 2 and a != 13]


def random_key(family: str, rng: np.random.Generator):
    """Keys as a user would pick them at random (affine A=1 is a Caesar shift; excluded)."""
    word = lambda n: "".join(A[i] for i in rng.integers(0, 26, n))  # noqa: E731
    if family == "caesar":
        return int(rng.integers(1, 26))
    if family == "affine":
        return f"{rng.choice([a for a in ODD if a != 1])},{rng.integers(0, 26)}"
    if family == "substitution":
        return "".join(A[i] for i in rng.permutation(26))
    if family in ("vigenere", "beaufort", "autokey"):
        return word(int(rng.integers(3, 11)))
    if family == "enigma":
        rotors = ",".join(rng.choice(["I", "II", "III", "IV", "V"], 3, replace=False))
        return f"rotors={rotors} reflector=B rings={word(3)} start={word(3)}"
    return None  # atbash, rot13


def messages(letters: str, n: int, length: int, rng: np.random.Generator) -> list[str]:
    starts = rng.integers(0, len(letters) - length, n)
    return [letters[s : s + length] for s in starts]


def accuracy(found: str, truth: str) -> float:
    a, b = to_ids(found), to_ids(truth)
    return float((a == b).mean()) if len(a) == len(b) else 0.0


class Table:
    def __init__(self) -> None:
        self.rows: dict[tuple, list[tuple[float, float]]] = defaultdict(list)

    def add(self, cipher: str, method: str, length: int, acc: float, seconds: float) -> None:
        self.rows[(cipher, method, length)].append((acc, seconds))

    def summary(self) -> list[dict]:
        out = []
        for (cipher, method, length), values in self.rows.items():
            acc = np.array([v[0] for v in values])
            secs = np.array([v[1] for v in values])
            out.append(
                {
                    "cipher": cipher,
                    "method": method,
                    "letters": length,
                    "messages": len(values),
                    "exact": float(np.mean(acc == 1.0)),
                    "at_least_99": float(np.mean(acc >= 0.99)),
                    "char_accuracy": float(acc.mean()),
                    "mean_s": float(secs.mean()),
                    "max_s": float(secs.max()),
                }
            )
        return out


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def run_classical(table, letters, family, lengths, n, seed, time_limit) -> None:
    for length in lengths:
        rng = np.random.default_rng([seed, length, len(family)])
        for plain in messages(letters, n, length, rng):
            cipher = get_cipher(family, key=random_key(family, rng), alphabet=A)
            ciphertext = cipher.encrypt(plain)
            result, secs = timed(crack, ciphertext, cipher=family, time_limit=time_limit, seed=seed)
            table.add(family, "rnnlab classical", length, accuracy(result.plaintext, plain), secs)


def run_jakobsen(table, letters, lengths, n, seed) -> None:
    from cipher_solver.simple import SimpleSolver

    for length in lengths:
        rng = np.random.default_rng([seed, length, len("substitution")])  # same messages
        for i, plain in enumerate(messages(letters, n, length, rng)):
            ciphertext = get_cipher("substitution", key=random_key("substitution", rng)).encrypt(
                plain
            )
            for method in ("random", "deterministic"):
                random.seed(seed * 1000 + i)
                solver = SimpleSolver(ciphertext.lower())
                _, secs = timed(solver.solve, method=method)
                found = solver.plaintext().upper()
                table.add(
                    "substitution", f"Jakobsen ({method})", length, accuracy(found, plain), secs
                )


SIDE_COLUMNS = frozenset({"classical", "hybrid"})


def run_neural(
    table, letters, models: dict[str, str], lengths, n, seed, beside=SIDE_COLUMNS
) -> None:
    """The networks' readings and, on the very same messages, the columns named in `beside`:
    the classical attack (it does not change with the network) and, for substitution, the
    hybrid started from the network's key (both spend a 5-second budget per message)."""
    for family, model_dir in models.items():
        for length in lengths:
            rng = np.random.default_rng([seed, length, len(family)])
            for plain in messages(letters, n, length, rng):
                ciphertext = get_cipher(family, key=random_key(family, rng), alphabet=A).encrypt(
                    plain
                )
                result, secs = timed(crack, ciphertext, model_dir=model_dir)
                table.add(family, "neural", length, accuracy(result.plaintext, plain), secs)
                if "classical" in beside:
                    result, secs = timed(crack, ciphertext, cipher=family, time_limit=5, seed=seed)
                    table.add(family, "classical", length, accuracy(result.plaintext, plain), secs)
                if family == "substitution" and "hybrid" in beside:
                    result, secs = timed(
                        crack, ciphertext, model_dir=model_dir, hybrid=True, time_limit=5, seed=seed
                    )
                    table.add(family, "hybrid", length, accuracy(result.plaintext, plain), secs)


def run_identification(letters, n, length, seed, time_limit) -> dict:
    model = load_model()
    confusion: dict[str, Counter] = {}
    for family in cipher_names():
        rng = np.random.default_rng([seed, length, 7, len(family)])
        counts: Counter = Counter()
        for plain in messages(letters, n, length, rng):
            ciphertext = get_cipher(family, key=random_key(family, rng), alphabet=A).encrypt(plain)
            guess = identify(to_ids(ciphertext), model, Deadline(time_limit), seed)
            counts[guess.family] += 1
        confusion[family] = dict(counts)
    return confusion


SHORT_FAMILIES = (
    "caesar",
    "atbash",
    "affine",
    "vigenere",
    "beaufort",
    "autokey",
    "substitution",
    "enigma",
)


def run_short(letters, n, lengths, seed, time_limit) -> list[dict]:
    """`crack` with no --cipher on short texts: what a user pasting one gets."""
    rows = []
    for length in lengths:
        for family in SHORT_FAMILIES:
            rng = np.random.default_rng([seed, length, 13, len(family)])
            outcomes: Counter = Counter()
            secs = []
            for plain in messages(letters, n, length, rng):
                ciphertext = get_cipher(family, key=random_key(family, rng), alphabet=A).encrypt(
                    plain
                )
                start = time.perf_counter()
                try:
                    result = crack(ciphertext, time_limit=time_limit, seed=seed)
                except UserError:
                    outcomes["refused"] += 1
                else:
                    outcomes["identified"] += result.cipher == family
                    outcomes["wrong"] += result.cipher != family
                    outcomes["exact"] += result.plaintext == plain
                secs.append(time.perf_counter() - start)
            rows.append(
                {"cipher": family, "letters": length, "messages": n}
                | {k: outcomes[k] / n for k in ("identified", "exact", "wrong", "refused")}
                | {"mean_s": float(np.mean(secs)), "max_s": float(np.max(secs))}
            )
            print(f"short {family} {length} done", flush=True)
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--text", required=True, help="held-out English text (not the scorer's)")
    p.add_argument("--n", type=int, default=50, help="messages per cipher and length")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--time-limit", type=float, default=10.0)
    p.add_argument("--models", default="", help="family=DIR,... unknown-key decipher models")
    p.add_argument(
        "--skip",
        default="",
        help="comma-separated parts to skip: a family, jakobsen, identify, "
        "paired-classical / paired-hybrid (the columns beside --models)",
    )
    p.add_argument("--identify-lengths", default="200", help="lengths for the confusion table")
    p.add_argument("--short-lengths", default="", help="lengths for the short-text table")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    letters = "".join(ch for ch in Path(args.text).read_text().upper() if ch in A)
    skip = set(args.skip.split(","))
    table = Table()
    plan = {
        "caesar": [20, 30, 50],
        "atbash": [30],
        "affine": [30, 50],
        "vigenere": [100, 200, 300],
        "beaufort": [300],
        "autokey": [100, 300],
        "substitution": [100, 200, 400, 1000],
    }
    started = time.perf_counter()
    for family, lengths in plan.items():
        if family not in skip:
            run_classical(table, letters, family, lengths, args.n, args.seed, args.time_limit)
            print(f"{family} done at {time.perf_counter() - started:.0f} s", flush=True)
    if "jakobsen" not in skip:
        run_jakobsen(table, letters, plan["substitution"], args.n, args.seed)
    models = dict(item.split("=", 1) for item in args.models.split(",") if item)
    if models:
        paired_skips = {part.removeprefix("paired-") for part in skip if part.startswith("paired-")}
        beside = SIDE_COLUMNS - paired_skips
        run_neural(table, letters, models, [40, 100, 200, 1000], args.n, args.seed, beside)
    confusion = {}
    if "identify" not in skip:
        for length in map(int, args.identify_lengths.split(",")):
            confusion[str(length)] = run_identification(
                letters, args.n, length, args.seed, args.time_limit
            )
    short_lengths = [int(x) for x in args.short_lengths.split(",") if x]
    short = run_short(letters, args.n, short_lengths, args.seed, args.time_limit)
    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''} ".strip()
        + f", {__import__('os').cpu_count()} cores, Python {platform.python_version()}",
        "text": args.text,
        "letters_available": len(letters),
        "messages_per_cell": args.n,
        "seed": args.seed,
        "time_limit_s": args.time_limit,
        "rows": sorted(table.summary(), key=lambda r: (r["cipher"], r["letters"], r["method"])),
        "identification": confusion,  # letters -> true family -> {guess: count}
        "short_text": short,  # crack without --cipher: fractions of messages per outcome
    }
    text = json.dumps(result, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    for row in result["rows"]:
        print(
            f"{row['cipher']:>12} {row['method']:>26} {row['letters']:>5}  exact "
            f"{row['exact']:6.1%}  >=99% {row['at_least_99']:6.1%}  chars "
            f"{row['char_accuracy']:6.1%}  mean {row['mean_s']:.2f}s max {row['max_s']:.2f}s"
        )
    for row in short:
        print(
            f"{row['cipher']:>12} {row['letters']:>3} letters  identified {row['identified']:6.1%}"
            f"  exact {row['exact']:6.1%}  wrong {row['wrong']:6.1%}  refused "
            f"{row['refused']:6.1%}  mean {row['mean_s']:.2f}s max {row['max_s']:.2f}s"
        )
    for length, table_ in confusion.items():
        for family, counts in table_.items():
            print(f"{length:>5} {family:>12} -> {counts}")


if __name__ == "__main__":
    main()
