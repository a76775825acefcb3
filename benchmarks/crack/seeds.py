"""Median and worst over several runs of run.py (one per seed), cell by cell.

    python benchmarks/crack/seeds.py --out benchmarks/crack/seeds-classical.json \\
        benchmarks/crack/seeds/classical-seed0.json benchmarks/crack/seeds/classical-seed1.json ...

A seed of run.py draws other messages and keys (and, for the neural rows, the same messages
read by networks trained with other seeds): a rate that one draw met is not a property of
the attack. For each cell this reports the median and the worst across the runs — lowest
for accuracies and solve rates, highest for wrong answers.
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path

ROW_METRICS = ("exact", "at_least_99", "char_accuracy")
SHORT_METRICS = ("identified", "exact")


def spread(values: list[float], worst=min) -> dict[str, float]:
    return {"median": statistics.median(values), "worst": worst(values), "runs": values}


def table_rows(runs: list[dict]) -> list[dict]:
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for run in runs:
        for row in run["rows"]:
            cells[(row["cipher"], row["method"], row["letters"])].append(row)
    return [
        {"cipher": c, "method": m, "letters": n, "seeds": len(rows)}
        | {k: spread([r[k] for r in rows]) for k in ROW_METRICS}
        | {"mean_s": spread([r["mean_s"] for r in rows], worst=max)}
        for (c, m, n), rows in sorted(cells.items())
    ]


def short_rows(runs: list[dict]) -> list[dict]:
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for run in runs:
        for row in run.get("short_text", []):
            cells[(row["cipher"], row["letters"])].append(row)
    return [
        {"cipher": c, "letters": n, "seeds": len(rows)}
        | {k: spread([r[k] for r in rows]) for k in SHORT_METRICS}
        | {k: spread([r[k] for r in rows], worst=max) for k in ("wrong", "refused")}
        for (c, n), rows in sorted(cells.items())
    ]


def right_answer(family: str) -> str:
    return "caesar" if family == "rot13" else family  # ROT13 is Caesar with key 13


def identification(runs: list[dict]) -> dict:
    """Per length: messages named correctly, per family and in all, over the runs."""
    out = {}
    lengths = sorted({n for run in runs for n in run.get("identification", {})}, key=int)
    for length in lengths:
        tables = [run["identification"][length] for run in runs if length in run["identification"]]
        # family -> messages named right in each run; a run's total is its column's sum
        correct = {f: [t[f].get(right_answer(f), 0) for t in tables] for f in tables[0]}
        totals = [sum(column) for column in zip(*correct.values(), strict=True)]
        messages = sum(sum(guesses.values()) for guesses in tables[0].values())
        out[length] = {
            "messages": messages,
            "correct": spread(totals),
            "per_family": {f: spread(counts) for f, counts in correct.items()},
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run.py output JSON files, one per seed")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    runs = [json.loads(Path(p).read_text()) for p in args.runs]
    result = {
        "machine": runs[0]["machine"],
        "files": args.runs,
        "seeds": [run["seed"] for run in runs],
        "messages_per_cell": runs[0]["messages_per_cell"],
        "rows": table_rows(runs),
        "short_text": short_rows(runs),
        "identification": identification(runs),
    }
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    for row in result["rows"]:
        acc, exact = row["char_accuracy"], row["exact"]
        print(
            f"{row['cipher']:>12} {row['method']:>26} {row['letters']:>5}  chars median "
            f"{acc['median']:6.1%} worst {acc['worst']:6.1%}  exact median "
            f"{exact['median']:6.1%} worst {exact['worst']:6.1%}"
        )
    for row in result["short_text"]:
        exact = row["exact"]
        print(
            f"{row['cipher']:>12} {row['letters']:>3} letters  exact median {exact['median']:6.1%}"
            f" worst {exact['worst']:6.1%}  wrong at most {row['wrong']['worst']:6.1%}"
        )
    for length, ident in result["identification"].items():
        c = ident["correct"]
        print(f"identify {length}: {c['median']} / {c['worst']} of {ident['messages']}")


if __name__ == "__main__":
    main()
