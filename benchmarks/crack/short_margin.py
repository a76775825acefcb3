"""How clear must a short text's best reading be? The sweep behind identify.CLEAR_MARGIN.

    python benchmarks/crack/short_margin.py --text pride_and_prejudice.txt --out short-margin.json

For texts of a few lengths under 40 letters, runs what `crack` runs without --cipher (the
cheap families each length allows) and, for each candidate margin, counts how many texts
of the cheap families (caesar, atbash, affine) would be read exactly and how many texts of
the other families would get a wrong answer. The messages are drawn apart from run.py's
(another stream of the generator), so the margin is not chosen on the benchmark's texts.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
from run import SHORT_FAMILIES, A, messages, random_key

from rnnlab.ciphers import get_cipher
from rnnlab.crack.attacks import attacks
from rnnlab.crack.identify import NO_ATTACK, clear_winner, identify
from rnnlab.crack.letters import to_ids
from rnnlab.crack.ngrams import load_model
from rnnlab.crack.result import Deadline
from rnnlab.crack.solve import min_letters

CHEAP = ("caesar", "atbash", "affine")
MARGINS = {"log 10": math.log(10), "log 100": math.log(100), "log 1000": math.log(1000)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--text", required=True, help="held-out English text (not the scorer's)")
    p.add_argument("--n", type=int, default=50, help="messages per family, length and seed")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--lengths", default="12,15,17,20,25,30")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    letters = "".join(ch for ch in Path(args.text).read_text().upper() if ch in A)
    model = load_model()
    rows = []
    started = time.perf_counter()
    for length in map(int, args.lengths.split(",")):
        tried = [
            a.family
            for a in attacks()
            if a.identifies and not a.slow and min_letters(a.family) <= length
        ]
        counts = {m: {"cheap_exact": 0, "others_wrong": 0, "others_exact": 0} for m in MARGINS}
        for seed in range(1, args.seeds + 1):
            for family in SHORT_FAMILIES:
                rng = np.random.default_rng([seed, length, 77, len(family)])
                for plain in messages(letters, args.n, length, rng):
                    key = random_key(family, rng)
                    ids = to_ids(get_cipher(family, key=key, alphabet=A).encrypt(plain))
                    found = identify(ids, model, Deadline(10), families=tried)
                    exact = found.family != NO_ATTACK and np.array_equal(
                        found.result.plain_ids, to_ids(plain)
                    )
                    for name, margin in MARGINS.items():
                        if not clear_winner(found, margin):
                            continue
                        if family in CHEAP:
                            counts[name]["cheap_exact"] += exact
                        else:
                            counts[name]["others_wrong"] += not exact
                            counts[name]["others_exact"] += exact
        cheap_n = args.seeds * args.n * len(CHEAP)
        others_n = args.seeds * args.n * (len(SHORT_FAMILIES) - len(CHEAP))
        for name, c in counts.items():
            rows.append(
                {"letters": length, "margin": name, "cheap_texts": cheap_n}
                | {"cheap_exact": c["cheap_exact"] / cheap_n, "other_texts": others_n}
                | {"others_wrong": c["others_wrong"], "others_exact": c["others_exact"]}
            )
            print(
                f"{length:>3} letters  margin {name:<8}  cheap exact "
                f"{c['cheap_exact'] / cheap_n:6.1%}  others: {c['others_wrong']} wrong, "
                f"{c['others_exact']} read exactly, of {others_n}",
                flush=True,
            )
    result = {
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "text": args.text,
        "seeds": args.seeds,
        "messages_per_family_length_seed": args.n,
        "seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
    }
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
