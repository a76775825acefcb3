"""Summarise finished `rnnlab lm train` run directories into one JSON, without evaluating
again: each run's settings (config.json) and its validation curve (metrics.jsonl).

Used for the screening runs of benchmarks/lm_cpu/README.md, which were budgeted by steps
(equal characters) rather than time, so their losses compare whatever the machine's load.

    python benchmarks/lm_cpu/summarise_runs.py DIR... --out screening.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rnnlab.checkpoint import read_metrics

SETTINGS = ("batch_size", "lr", "ema", "steps")
MODEL = ("model", "dropout", "weight_drop", "variational", "hidden", "layers")


def summary(run: Path) -> dict:
    config = json.loads((run / "config.json").read_text())
    records = read_metrics(run / "metrics.jsonl")
    per_step = config["train"]["batch_size"] * config["data"]["seq_len"]
    evals = [r for r in records if r.get("split") == "val"]
    last_train = [r for r in records if r.get("split") == "train"][-1]
    return {
        "run": run.name,
        "model": {k: config["model"].get(k) for k in MODEL},
        "train": {k: config["train"].get(k) for k in SETTINGS},
        "seq_len": config["data"]["seq_len"],
        "threads": 1,
        "val_curve": [
            {"step": r["step"], "chars": r["step"] * per_step, "val_loss": r["loss"]} for r in evals
        ],
        "train_loss_end": last_train["loss"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    result = {"runs": [summary(run) for run in args.runs]}
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
