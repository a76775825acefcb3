"""Peak memory of `rnnlab decipher train --pairs FILE --steps 20` when one pair is huge.

Builds a pairs file whose first pair is LONG characters long, followed by SHORT short
pairs (all the seed's cipher: shift 13 over A-Z plus '-'), then runs the command in a
child process under an address-space limit and a timeout, and records the child's own
maximum resident set size (from os.wait4, so no other process is counted): once with
the long pair trained on, once with it held out for validation, and `decipher eval
--pairs` on the file. A control run on the short pairs alone shows what the long pair
adds.

    python benchmarks/pairs_memory/run.py [--src DIR] [--label NAME] [--json FILE]

--src runs another checkout's code (its DIR/src goes first on PYTHONPATH), which is how
the "before" row was measured: `git archive 3277a5b src | tar -x -C /tmp/before`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LONG = 1_000_000  # characters in the first pair (the case)
SHORT = 100  # short pairs after it
SHORT_LEN = (8, 40)  # their lengths, uniform in [lo, hi)
STEPS = 20
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
LIMIT_BYTES = 4 * 1024**3  # RLIMIT_AS for the child: "before" would otherwise take all RAM
TIMEOUT_S = 300


def rot13(text: str) -> str:
    return "".join(ALPHABET[(ALPHABET.index(c) + 13) % len(ALPHABET)] for c in text)


def write_pairs(path: Path, long: int, seed: int = 0) -> int:
    """Write the file; returns the longest pair's length."""
    rng = np.random.default_rng(seed)
    lines = []
    lengths = [long] if long else []
    lengths += list(rng.integers(*SHORT_LEN, size=SHORT))
    for n in lengths:
        plain = "".join(np.array(list(ALPHABET))[rng.integers(0, len(ALPHABET), size=n)])
        lines.append(f"{plain}\t{rot13(plain)}")
    path.write_text("\n".join(lines) + "\n")
    return int(max(lengths))


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT_BYTES, LIMIT_BYTES))


def measure(args: list[str], log: Path, src: Path | None) -> dict:
    """Run `rnnlab ARGS` in a child under the limits; its peak RSS, exit and output."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src / "src"), env.get("PYTHONPATH")]))
    # One thread, as on a shared 2-core machine; it does not change what is allocated.
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = [sys.executable, "-m", "rnnlab", *args]
    start = time.perf_counter()
    with log.open("wb") as sink:
        child = subprocess.Popen(
            cmd, env=env, preexec_fn=limit_memory, stdout=sink, stderr=subprocess.STDOUT
        )
    # os.wait4 returns this child's own rusage (RUSAGE_CHILDREN would mix in every child).
    timed_out = False
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - start > TIMEOUT_S:
            child.kill()
            timed_out = True
            _, status, usage = os.wait4(child.pid, 0)
            break
        time.sleep(0.2)
    code = child.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    output = log.read_text(errors="replace")
    return {
        "exit_code": code,  # negative: killed by that signal
        "timed_out": timed_out,
        "wall_s": round(time.perf_counter() - start, 1),
        "max_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        # the allocator refusing past the limit, or the kernel killing the process
        "out_of_memory": "allocate memory" in output or "MemoryError" in output or code == -9,
        "output_tail": output.strip().splitlines()[-2:],
    }


def machine() -> dict:
    import torch

    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    return {
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_kib / 1024**2, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, help="checkout whose src/ to run (default: installed)")
    parser.add_argument("--label", default="after", help="name of this row in the JSON")
    parser.add_argument("--json", type=Path, help="add the rows to this results file")
    args = parser.parse_args()
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        long_file, short_file = work / "long.tsv", work / "short.tsv"
        files = {long_file: write_pairs(long_file, LONG), short_file: write_pairs(short_file, 0)}
        # The split is seeded: seed 0 trains on the long pair, seed 1 holds it out (so
        # validation during training scores it). The last case scores the long file with
        # `decipher eval --pairs`, using the model trained on short pairs (that works before
        # the fix too).
        cases = {
            "train_long_pair_trained": (long_file, ["--seed", "0"]),
            "train_long_pair_held_out": (long_file, ["--seed", "1"]),
            "train_short_pairs_only": (short_file, ["--seed", "0"]),
        }
        for case, (pairs, extra) in cases.items():
            run_args = ["decipher", "train", "--pairs", str(pairs), "--steps", str(STEPS)]
            run_args += [*extra, "--out", str(work / case), "--quiet"]
            rows[case] = {"file_bytes": pairs.stat().st_size, "longest_pair": files[pairs]}
            rows[case] |= measure(run_args, work / f"{case}.log", args.src)
            print(f"{args.label} {case}: {json.dumps(rows[case])}", flush=True)
        case = "eval_long_file"
        run_args = ["decipher", "eval", str(work / "train_short_pairs_only"), "--pairs"]
        run_args += [str(long_file), "--json"]
        rows[case] = {"file_bytes": long_file.stat().st_size, "longest_pair": files[long_file]}
        rows[case] |= measure(run_args, work / f"{case}.log", args.src)
        print(f"{args.label} {case}: {json.dumps(rows[case])}", flush=True)
    if args.json:
        results = json.loads(args.json.read_text()) if args.json.exists() else {}
        results["commands"] = [
            f"rnnlab decipher train --pairs FILE --steps {STEPS} --seed S",
            "rnnlab decipher eval DIR --pairs FILE --json",
        ]
        results["files"] = {
            "long": f"one {LONG:,}-character pair, then {SHORT} pairs of "
            f"{SHORT_LEN[0]}-{SHORT_LEN[1] - 1} characters",
            "short": f"the same {SHORT} short pairs alone",
        }
        results["limits"] = {"address_space_gb": LIMIT_BYTES / 1024**3, "timeout_s": TIMEOUT_S}
        results["machine"] = machine()
        results[args.label] = rows
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
