"""Data-parallel training throughput: `rnnlab lm train` plain against under torchrun.

Every case trains the same language model on the shipped Tiny Shakespeare for --steps
steps with the same *global* batch, and reads the throughput the Trainer logs itself: the
`chars_per_s` of each training log record (every 10 steps; counted over all ranks' rows,
timed on rank 0, so it includes the gradient all-reduce and the per-step stop agreement).
The first window (warm-up) is dropped and the median of the rest is reported. Evaluation
runs once, after the last step, outside every window. Repeats alternate the cases so that
drifting load on a shared machine falls on all of them alike.

    python benchmarks/distributed/run.py cpu            # 1 process vs 2 CPU ranks (gloo)
    python benchmarks/distributed/run.py gpu-overhead   # 1 GPU: plain vs DDP on 1 rank
    python benchmarks/distributed/run.py gpu-scaling --gpus 1,2,4,8   # one multi-GPU node

Results go to stdout as one JSON object (with the machine) and, with --out, to a file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from rnnlab import checkpoint as ckpt

# The CPU preset's model (2 x 256 tied LSTM, seq 50, batch 64) without dropout: what
# `rnnlab lm train` trains on a CPU by default.
CPU_MODEL = ["--preset", "cpu", "--dropout", "0", "--device", "cpu"]
# The CUDA preset's model (2 x 1024 tied LSTM, seq 128, batch 128, bf16).
GPU_MODEL = ["--preset", "cuda", "--dropout", "0", "--device", "cuda"]


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_cores_usable": len(os.sched_getaffinity(0)),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    if torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def launch(nproc: int | None, args: list[str]) -> list[str]:
    """The command for one case: plain `python -m rnnlab` (nproc None) or torchrun."""
    rnnlab = ["-m", "rnnlab", "lm", "train", *args]
    if nproc is None:
        return [sys.executable, *rnnlab]
    run = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    return [*run, "--nproc-per-node", str(nproc), *rnnlab]


def one_run(name: str, nproc: int | None, args: list[str], env: dict[str, str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        started = time.perf_counter()
        done = subprocess.run(
            launch(nproc, [*args, "--out", str(out), "--quiet"]),
            env=os.environ | env,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
        rows = [r for r in ckpt.read_metrics(out / ckpt.METRICS) if r["split"] == "train"]
    rates = [r["chars_per_s"] for r in rows[1:]]  # the first window holds the warm-up
    return {
        "case": name,
        "chars_per_s": round(statistics.median(rates), 1),
        "windows": len(rates),
        "wall_s": round(wall, 1),
    }


def measure(cases: dict[str, tuple[int | None, list[str], dict]], repeats: int) -> list[dict]:
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, (nproc, args, env) in cases.items():  # alternating: load falls on all
            runs[name].append(one_run(name, nproc, args, env))
            print(json.dumps(runs[name][-1]), file=sys.stderr)
    return [
        {
            "case": name,
            "chars_per_s": statistics.median(r["chars_per_s"] for r in results),
            "repeats": [r["chars_per_s"] for r in results],
        }
        for name, results in runs.items()
    ]


def cpu_cases(steps: int) -> dict[str, tuple[int | None, list[str], dict]]:
    args = [*CPU_MODEL, "--steps", str(steps), "--eval-every", str(steps)]
    cores = str(len(os.sched_getaffinity(0)))
    return {
        # torch's default: one process using every core
        f"plain-1-process-{cores}-threads": (None, args, {"OMP_NUM_THREADS": cores}),
        "plain-1-process-1-thread": (None, args, {"OMP_NUM_THREADS": "1"}),
        # rnnlab gives each rank cores // ranks threads: 1 each here
        "ddp-2-ranks": (2, args, {}),
    }


def gpu_overhead_cases(steps: int) -> dict[str, tuple[int | None, list[str], dict]]:
    args = [*GPU_MODEL, "--steps", str(steps), "--eval-every", str(steps)]
    return {"plain-1-gpu": (None, args, {}), "ddp-1-rank-1-gpu": (1, args, {})}


def gpu_scaling_cases(steps: int, gpus: list[int]) -> dict:
    """Weak scaling: 128 rows per GPU, so the global batch grows with the GPUs (a run's
    --batch-size is global). Throughput per GPU should stay flat."""
    cases = {}
    for n in gpus:
        args = [*GPU_MODEL, "--steps", str(steps), "--eval-every", str(steps)]
        cases[f"ddp-{n}-gpus-batch-{128 * n}"] = (n, [*args, "--batch-size", str(128 * n)], {})
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["cpu", "gpu-overhead", "gpu-scaling"])
    parser.add_argument("--steps", type=int, default=None, help="steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gpus", default="1,2,4,8", help="gpu-scaling: GPU counts to run")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()
    before = machine()
    steps = args.steps or (60 if args.what == "cpu" else 500)
    if args.what == "cpu":
        cases = cpu_cases(steps)
    elif args.what == "gpu-overhead":
        cases = gpu_overhead_cases(steps)
    else:
        cases = gpu_scaling_cases(steps, [int(g) for g in args.gpus.split(",")])
    results = measure(cases, args.repeats)
    base = results[0]["chars_per_s"]
    for row in results:
        row["ratio_vs_first"] = round(row["chars_per_s"] / base, 3)
    report = {
        "benchmark": args.what,
        "machine": before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "steps": steps,
        "results": results,
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
