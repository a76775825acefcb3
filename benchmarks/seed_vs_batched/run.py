"""Seed recipe vs rnnlab's default on the seed's task, in one process.

Both learn the seed's cipher (shift 13 over A-Z plus '-') from random 32-character
messages with Embedding -> LSTM -> Linear, Adam and cross-entropy; they differ only in
recipe:

    seed    batch 1, embedding 5, hidden 10, lr 1e-3, no clipping (seeds 000-002)
    rnnlab  batch 64, embedding 32, hidden 128, lr 3e-3, clip 1.0 (`rnnlab decipher train`)

Each is trained with the same loop and the same data stream, and evaluated on the same
1,000 held-out messages every EVAL_CHARS training characters. Reported: training seconds
(evaluation excluded) until held-out character accuracy first reaches 99.9%, and training
characters per second. Then `rnnlab decipher train` itself is run once, wall clock, as a
user runs it (data, model, evaluation and checkpoints included).

    python benchmarks/seed_vs_batched/run.py [--budget SECONDS] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch

from rnnlab import decipher
from rnnlab.ciphers import get_cipher
from rnnlab.data.parallel import CipherStream
from rnnlab.models.tagger import Tagger, TaggerConfig

TARGET = 0.999
SEQ_LEN = 32
EVAL_CHARS = 2_048  # evaluate after every this many training characters (one rnnlab step)

RECIPES = {
    "seed": dict(batch_size=1, embedding=5, hidden=10, lr=1e-3, grad_clip=0.0),
    "rnnlab": dict(batch_size=64, embedding=32, hidden=128, lr=3e-3, grad_clip=1.0),
}


def time_to_target(name: str, recipe: dict, budget_s: float, seed: int = 0) -> dict:
    cipher = get_cipher("caesar", key=13)
    stream = CipherStream(cipher, SEQ_LEN, recipe["batch_size"], seed, val_examples=1000)
    torch.manual_seed(seed)
    model = Tagger(TaggerConfig(27, 27, embedding=recipe["embedding"], hidden=recipe["hidden"]))
    task = decipher.DecipherTask(stream)
    opt = torch.optim.Adam(model.parameters(), lr=recipe["lr"])
    train_s, chars, step, next_eval = 0.0, 0, 0, EVAL_CHARS
    history = []
    reached = None
    while train_s < budget_s:
        step += 1
        t0 = time.perf_counter()
        model.train()
        batch = stream.train_batch(step)
        loss = model.loss(batch).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if recipe["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe["grad_clip"])
        opt.step()
        train_s += time.perf_counter() - t0
        chars += batch.inputs.numel()
        if chars >= next_eval:
            next_eval += EVAL_CHARS
            acc = task.evaluate(model)["accuracy"]
            history.append((round(train_s, 3), chars, acc))
            if acc >= TARGET:
                reached = train_s
                break
    return {
        "recipe": name,
        **recipe,
        "seconds_to_target": None if reached is None else round(reached, 2),
        "reached_target": reached is not None,
        "final_accuracy": history[-1][2] if history else None,
        "train_chars": chars,
        "steps": step,
        "chars_per_s": round(chars / train_s),
        "train_seconds": round(train_s, 2),
    }


def median_run(rows: list[dict]) -> dict:
    """The run with the median time to target (runs that missed it count as slowest)."""
    ranked = sorted(rows, key=lambda r: (not r["reached_target"], r["seconds_to_target"] or 0))
    return ranked[len(ranked) // 2]


def cli_default_run() -> dict:
    """`rnnlab decipher train` with no flags, timed end to end (minus interpreter start)."""
    with tempfile.TemporaryDirectory() as tmp:
        run = decipher.DecipherRun(
            decipher.DecipherDataConfig(),
            TaggerConfig(),
            decipher.TrainConfig(),
        )
        t0 = time.perf_counter()
        _, result = decipher.train(run, Path(tmp) / "run")
        wall = time.perf_counter() - t0
    return {"wall_seconds": round(wall, 2), "held_out_accuracy": result["accuracy"]}


def machine() -> dict:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--budget",
        type=float,
        default=300.0,
        help="training seconds allowed per recipe before giving up",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write results here")
    parser.add_argument("--seeds", type=int, default=5, help="repeats per recipe (median)")
    args = parser.parse_args()
    runs = {
        name: [time_to_target(name, recipe, args.budget, seed=s) for s in range(args.seeds)]
        for name, recipe in RECIPES.items()
    }
    seed, ours = (median_run(rs) for rs in runs.values())
    report = {
        "machine": machine(),
        "target_accuracy": TARGET,
        "seeds": args.seeds,
        "median": [seed, ours],
        "runs": runs,
        "speedup_chars_per_s": round(ours["chars_per_s"] / seed["chars_per_s"], 1),
        "cli_default": cli_default_run(),
    }
    if seed["reached_target"] and ours["reached_target"]:
        report["speedup_time_to_target"] = round(
            seed["seconds_to_target"] / ours["seconds_to_target"], 1
        )
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
