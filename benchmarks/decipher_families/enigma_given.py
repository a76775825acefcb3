"""Enigma as crypto-rnn learned it (issue 17): one machine, a random start position per
message handed to the model as its key, random-letter plaintext. Trains with the CLI
command below for --max-time minutes on one torch thread, evaluates on held-out start
positions at 1x, 2x, 5x, 10x and 100x the training length, and writes a JSON beside
crypto-rnn's published figures.

    OMP_NUM_THREADS=1 python benchmarks/decipher_families/enigma_given.py --max-time 30

A quick check that the whole path works (not a result): --max-time 1 --examples 50
--json /tmp/enigma-given-check.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MACHINE = "rotors=II,IV,V reflector=B rings=BUL plugboard=AV,BS,CG,DL,FU,HZ,IN,KM,OW,RX"
SEQ_LEN = 32
MULTIPLES = (1, 2, 5, 10, 100)
# Greydanus 2017, crypto-rnn `generalize-enigma.txt`: 3,000-unit LSTM, about a million
# steps, days on a K40; character accuracy at each message length (letters).
CRYPTO_RNN = {"10": 0.994, "20": 0.960, "30": 0.855, "50": 0.552, "75": 0.387}


def train_command(out: Path, max_time: float) -> list[str]:
    return [
        *("rnnlab", "decipher", "train", "--cipher", "enigma", "--key", MACHINE),
        *("--key-mode", "given", "--seq-len", str(SEQ_LEN)),
        *("--batch-size", "128", "--curriculum", "100", "--lr", "3e-2"),
        *("--schedule", "cosine", "--steps", "10000000", "--max-time", str(max_time)),
        *("--eval-every", "1000", "--val-examples", "500", "--seed", "0"),
        *("--out", str(out), "--quiet"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-time", type=float, default=30.0, help="training minutes")
    parser.add_argument("--examples", type=int, default=1000, help="messages per length")
    parser.add_argument("--out", default="runs/enigma-given", help="checkpoint directory")
    parser.add_argument("--json", default=str(HERE / "enigma-given.json"), help="result file")
    args = parser.parse_args()
    env = os.environ | {"OMP_NUM_THREADS": "1"}  # one thread: the machine is shared
    out = Path(args.out)
    if out.exists():
        sys.exit(f"error: {out} exists; remove it or pass --out")
    command = train_command(out, args.max_time)
    print("$", shlex.join(command), flush=True)
    started = time.time()
    subprocess.run(command, check=True, env=env)
    wall = time.time() - started
    lengths = [SEQ_LEN * m for m in MULTIPLES]
    eval_command = ["rnnlab", "decipher", "eval", str(out), "--json"]
    eval_command += ["--lengths", ",".join(map(str, lengths)), "--examples", str(args.examples)]
    print("$", shlex.join(eval_command), flush=True)
    result = json.loads(
        subprocess.run(eval_command, check=True, env=env, capture_output=True, text=True).stdout
    )
    metrics = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    train_rows = [m for m in metrics if m.get("split") == "train"]
    import torch  # only for its version

    by_multiple = list(zip(MULTIPLES, lengths, strict=True))

    record = {
        "issue": 17,
        "train_command": shlex.join(command),
        "eval_command": shlex.join(eval_command),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
        },
        "torch": torch.__version__,
        "threads": 1,
        "max_time_min": args.max_time,
        "training_s": train_rows[-1]["elapsed_s"] if train_rows else None,
        "wall_s_with_startup_and_validation": round(wall, 1),
        "steps": train_rows[-1]["step"] if train_rows else None,
        "train_length": SEQ_LEN,
        "accuracy": {f"{m}x ({n})": result["accuracy"][str(n)] for m, n in by_multiple},
        "message_accuracy": result["message_accuracy"],
        "examples": result["examples"],
        "held_out_keys": result.get("held_out_keys"),
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
