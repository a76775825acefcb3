"""Resident memory while rnnlab streams a 1 GB text file, sampled over each run.

Three runs on the same file, each under this script's sampler (VmRSS from /proc, 0.5 s):

1. `encode`: `rnnlab lm train --steps 1` with an empty corpus cache: encoding the whole
   gigabyte (three streaming passes) into memory-mapped ids.
2. `pipeline`: the training batches of the default shape (64 rows x 50 characters, what
   `lm train` reads each step, `StreamBatches`) over --chars characters of the cached ids,
   without the model: the part whose memory could grow with what was read.
3. `train`: `rnnlab lm train --max-time M` with the default model on the cached ids: a
   CPU trains at about 20 k characters/s, so this run reads far fewer characters.

The RSS at each tenth of a run shows whether memory grows with what it has read.

    python benchmarks/lm_memory/stream.py --file /tmp/big.txt --out results-cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from rnnlab.checkpoint import read_metrics


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def sampled(command: list[str], env: dict[str, str]) -> dict:
    """Run `command`, sampling its resident memory; the samples and the wall time."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env)
    samples: list[tuple[float, float]] = []

    def sample() -> None:
        while proc.poll() is None:
            mb = rss_mb(proc.pid)
            if mb is not None:
                samples.append((time.perf_counter() - started, mb))
            time.sleep(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    sampler.join()
    if code != 0:
        sys.exit(f"{' '.join(command)} exited {code}")
    wall = time.perf_counter() - started
    peak = max(mb for _, mb in samples)
    # RSS at each tenth of the run (the last sample at or before that time)
    tenths = []
    for k in range(1, 11):
        before = [mb for t, mb in samples if t <= wall * k / 10]
        tenths.append(round(before[-1]) if before else None)
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(peak), "rss_mb_by_tenth": tenths}


def read_batches(file: str, steps: int) -> None:
    """The child of the `pipeline` run: every batch of `steps` training steps."""
    from rnnlab.data.corpus import load_corpus
    from rnnlab.data.textstream import StreamBatches

    batches = StreamBatches(load_corpus(file).train.ids, 64, 50)
    for step in range(1, steps + 1):
        batches(step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", help="the 1 GB text file (run.sh builds it)")
    parser.add_argument("--chars", type=float, default=200e6, help="characters to stream")
    parser.add_argument("--train-minutes", type=float, default=3.0)
    parser.add_argument("--out", help="JSON file to write")
    parser.add_argument("--read-batches", nargs=2, help=argparse.SUPPRESS)  # the child
    args = parser.parse_args()
    if args.read_batches:
        read_batches(args.read_batches[0], int(args.read_batches[1]))
        return
    if not (args.file and args.out):
        parser.error("--file and --out are required")
    work = Path(tempfile.mkdtemp(prefix="rnnlab_stream_"))
    env = dict(os.environ, RNNLAB_CACHE=str(work / "cache"))
    base = ["rnnlab", "lm", "train", "--data", args.file, "--quiet"]
    encode = sampled([*base, "--steps", "1", "--out", str(work / "encode")], env)
    steps = int(-(-args.chars // (64 * 50)))
    pipeline = sampled([sys.executable, __file__, "--read-batches", args.file, str(steps)], env)
    pipeline |= {"steps": steps, "chars_streamed": steps * 64 * 50}
    minutes = ["--max-time", str(args.train_minutes), "--eval-every", "100000"]
    train = sampled([*base, *minutes, "--out", str(work / "run")], env)
    trained = [r for r in read_metrics(work / "run" / "metrics.jsonl") if r.get("split") == "train"]
    config = json.loads((work / "run" / "config.json").read_text())
    per_step = config["train"]["batch_size"] * config["data"]["seq_len"]
    train |= {"steps": trained[-1]["step"], "chars_streamed": trained[-1]["step"] * per_step}
    result = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "file_bytes": os.path.getsize(args.file),
        "encode": encode,
        "pipeline": pipeline,
        "train": train,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
