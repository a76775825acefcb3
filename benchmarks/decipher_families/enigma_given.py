"""Enigma as crypto-rnn learned it (issue 17): one machine, a random start position per
message handed to the model as its key, random-letter plaintext. Trains the CLI command
below once per seed, one after another with the default threads (run it alone: the
training is bounded by --max-time minutes, so a busy machine trains fewer steps);
evaluates every run on held-out start positions at 1x, 2x, 5x, 10x and 100x the training
length, and writes a JSON with each seed, the median and the worst, beside crypto-rnn's
published figures.

    python benchmarks/decipher_families/enigma_given.py --max-time 10 --seeds 0,1,2

A quick check that the whole path works (not a result): --max-time 1 --seeds 0
--examples 50 --json /tmp/enigma-given-check.json --out /tmp/enigma-check.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rnnlab.checkpoint import read_metrics

HERE = Path(__file__).resolve().parent
MACHINE = "rotors=II,IV,V reflector=B rings=BUL plugboard=AV,BS,CG,DL,FU,HZ,IN,KM,OW,RX"
SEQ_LEN = 32
MULTIPLES = (1, 2, 5, 10, 100)
LENGTHS = {f"{m}x": SEQ_LEN * m for m in MULTIPLES}  # what each multiple is, in letters
# Greydanus 2017, crypto-rnn `generalize-enigma.txt`: 3,000-unit LSTM, about a million
# steps, days on a K40; character accuracy at each message length (letters).
CRYPTO_RNN = {"10": 0.994, "20": 0.960, "30": 0.855, "50": 0.552, "75": 0.387}


def train_command(out: Path, max_time: float, seed: int | str) -> list[str]:
    return [
        *("rnnlab", "decipher", "train", "--cipher", "enigma", "--key", MACHINE),
        *("--key-mode", "given", "--seq-len", str(SEQ_LEN)),
        *("--batch-size", "128", "--lr", "3e-2", "--schedule", "cosine"),
        *("--steps", "10000000", "--max-time", str(max_time)),
        *("--eval-every", "1000", "--val-examples", "500", "--seed", str(seed)),
        *("--out", str(out), "--quiet"),
    ]


def eval_command(out: Path, examples: int) -> list[str]:
    lengths = ",".join(map(str, LENGTHS.values()))
    return ["rnnlab", "decipher", "eval", str(out), "--json", "--lengths", lengths] + [
        *("--examples", str(examples))
    ]


def finished(out: Path) -> bool:
    return (out / "model.safetensors").is_file() and (out / "metrics.jsonl").is_file()


def seed_record(out: Path, examples: int) -> dict:
    """Evaluate one finished run; its training time and steps from metrics.jsonl."""
    result = json.loads(
        subprocess.run(
            eval_command(out, examples), check=True, capture_output=True, text=True
        ).stdout
    )
    train_rows = [m for m in read_metrics(out / "metrics.jsonl") if m.get("split") == "train"]
    return {
        "training_s": train_rows[-1]["elapsed_s"],
        "steps": train_rows[-1]["step"],
        "accuracy": {m: result["accuracy"][str(n)] for m, n in LENGTHS.items()},
        "message_accuracy": {m: result["message_accuracy"][str(n)] for m, n in LENGTHS.items()},
        "held_out_keys": result.get("held_out_keys"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-time", type=float, default=30.0, help="training minutes")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated")
    parser.add_argument("--examples", type=int, default=1000, help="messages per length")
    parser.add_argument("--out", default="runs/enigma-given", help="directory for the runs")
    parser.add_argument("--json", default=str(HERE / "enigma-given.json"), help="result file")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    outs = {seed: Path(args.out) / f"seed{seed}" for seed in seeds}
    # A finished run (its weights saved) is evaluated again rather than trained again, so a
    # sitting that stopped part way can go on; a run that did not finish is refused.
    unfinished = [out for out in outs.values() if out.exists() and not finished(out)]
    if unfinished:
        sys.exit(f"error: {unfinished[0]} exists but did not finish; remove it or pass --out")
    started = time.time()
    runs = {}
    for seed, out in outs.items():
        if finished(out):
            print(f"{out} finished before: evaluating it again", flush=True)
        else:
            print("$", shlex.join(train_command(out, args.max_time, seed)), flush=True)
            subprocess.run(train_command(out, args.max_time, seed), check=True)
        runs[str(seed)] = seed_record(out, args.examples)
        print(json.dumps(runs[str(seed)]["accuracy"]), flush=True)
    wall = time.time() - started
    import torch  # only for its version

    def spread(key: str) -> dict:
        return {
            m: {
                "median": statistics.median(r[key][m] for r in runs.values()),
                "worst": min(r[key][m] for r in runs.values()),
            }
            for m in next(iter(runs.values()))[key]
        }

    record = {
        "issue": 17,
        "train_command": shlex.join(
            train_command(Path(args.out) / "seed{SEED}", args.max_time, "SEED")
        ),
        "eval_command": shlex.join(eval_command(Path(args.out) / "seed{SEED}", args.examples)),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
        },
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "max_time_min": args.max_time,
        "wall_s_all_runs_with_eval": round(wall, 1),
        "train_length": SEQ_LEN,
        "lengths": LENGTHS,
        "examples": args.examples,
        "seeds": runs,
        "accuracy": spread("accuracy"),
        "message_accuracy": spread("message_accuracy"),
        "goal": {"1x": 0.995, "10x": 0.99},
        "crypto_rnn": {
            "accuracy_by_length": CRYPTO_RNN,
            "model": "LSTM, 3,000 units",
            "training": "about 1M steps, days on a K40 GPU",
            "source": "Greydanus 2017, crypto-rnn, generalize-enigma.txt",
        },
    }
    Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["accuracy"], indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
