"""Start-up cost of the commands that need no model: before and after the torch-free CLI.

    python benchmarks/cli_startup/run.py [--runs 15] [--before d0e4dbb]

BEFORE is the `src/` of an older commit (extracted with `git archive` into a temporary
directory), AFTER the `src/` of this working tree; both run under this interpreter and its
installed packages, selected with PYTHONPATH, so the code is the only difference. Runs
alternate before/after, after one discarded warm-up each (bytecode compiled, shared
libraries in the page cache), so drift in the machine's load hits both sides alike.

Each run is a fresh `python -m rnnlab …` child: wall time from spawn to exit, and its peak
resident memory (max RSS) as GNU time reports it. Not `os.wait4` on a child of this script:
Linux carries the high-water RSS of the process that forked the child across `exec` into
the child's max RSS, so every child would report at least this Python process's own RSS.
GNU time is a small C program; what it adds is far below any Python process's RSS. Without
it the script falls back to `os.wait4` and records how large its own RSS was (a floor).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

CASES = {
    "cipher encrypt": (["cipher", "encrypt", "--cipher", "rot13", "HELLO"], "URYYB\n"),
    "--help": (["--help"], "usage: rnnlab"),
}


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()


def extract_src(commit: str, into: Path) -> Path:
    """The commit's src/ tree, unpacked under `into` (the working tree is not touched)."""
    tar = subprocess.run(
        ["git", "archive", "--format=tar", commit, "src"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(into, filter="data")
    return into / "src"


GNU_TIME = shutil.which("time", path="/usr/bin:/bin")


def run_once(argv: list[str], src: Path, expected: str) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one `python -m rnnlab ARGV` child."""
    env = os.environ | {"PYTHONPATH": str(src)}
    command = [sys.executable, "-m", "rnnlab", *argv]
    with tempfile.TemporaryDirectory() as tmp:
        rss_file = Path(tmp) / "rss"
        if GNU_TIME:
            command = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *command]
        with open(Path(tmp) / "out", "w+b") as out:
            start = time.perf_counter()
            proc = subprocess.Popen(
                command, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
            _, status, usage = os.wait4(proc.pid, 0)
            elapsed = time.perf_counter() - start
            proc.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            text = out.read().decode()
        max_rss_kib = int(rss_file.read_text().split()[-1]) if GNU_TIME else usage.ru_maxrss
    if proc.returncode != 0 or not text.startswith(expected):
        raise SystemExit(f"rnnlab {' '.join(argv)} (PYTHONPATH={src}) failed:\n{text}")
    return elapsed, max_rss_kib / 1024


def child_output(src: Path, code: str) -> str:
    env = os.environ | {"PYTHONPATH": str(src)}
    return subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def measure(trees: dict[str, Path], runs: int) -> dict[str, dict]:
    results: dict[str, dict] = {}
    for case, (argv, expected) in CASES.items():
        samples: dict[str, dict[str, list[float]]] = {
            side: {"wall_s": [], "max_rss_mib": []} for side in trees
        }
        for src in trees.values():
            run_once(argv, src, expected)  # warm-up, discarded
        for _ in range(runs):
            for side, src in trees.items():
                wall, rss = run_once(argv, src, expected)
                samples[side]["wall_s"].append(round(wall, 5))
                samples[side]["max_rss_mib"].append(round(rss, 2))
        row: dict[str, dict] = {}
        for side, s in samples.items():
            row[side] = {
                "median_ms": round(1000 * statistics.median(s["wall_s"]), 1),
                "median_max_rss_mib": round(statistics.median(s["max_rss_mib"]), 1),
                **s,
            }
        row["ratio"] = {
            "wall": round(row["before"]["median_ms"] / row["after"]["median_ms"], 2),
            "memory": round(
                row["before"]["median_max_rss_mib"] / row["after"]["median_max_rss_mib"], 2
            ),
        }
        results[case] = row
        print(
            f"{case:<16} before {row['before']['median_ms']:7.1f} ms "
            f"{row['before']['median_max_rss_mib']:6.1f} MiB   after "
            f"{row['after']['median_ms']:7.1f} ms {row['after']['median_max_rss_mib']:6.1f} MiB"
            f"   {row['ratio']['wall']:.2f}x faster, {row['ratio']['memory']:.2f}x less memory",
            flush=True,
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed runs per side (median)")
    parser.add_argument("--before", default="d0e4dbb", help="commit to compare against")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args()
    if args.runs < 5:
        parser.error("--runs must be at least 5")

    after_src = ROOT / "src"
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"before": extract_src(args.before, Path(tmp)), "after": after_src}
        for side, src in trees.items():
            # the editable install must not shadow the tree being measured
            where = child_output(src, "import rnnlab; print(rnnlab.__file__)")
            if not where.startswith(str(src)):
                raise SystemExit(f"{side}: rnnlab loads from {where}, not from {src}")
        load_start = os.getloadavg()
        results = measure(trees, args.runs)
        load_end = os.getloadavg()
        # in a child: torch in this process would raise the floor the wait4 fallback has
        torch_version = child_output(after_src, "import torch; print(torch.__version__)")

    record = {
        "what": "python -m rnnlab ARGS in a fresh process: median wall time, peak RSS",
        "runs_per_side": args.runs,
        "max_rss_from": "GNU time %M" if GNU_TIME else "os.wait4 (floor: this script's RSS)",
        "script_max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "commits": {
            "before": git("rev-parse", args.before),
            "after": git("rev-parse", "HEAD"),
            # uncommitted changes under src/ would make "after" more than its commit
            "after_src_clean": git("status", "--porcelain", "--", "src") == "",
        },
        "machine": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch_version,
            "load_avg_1m_start_end": [round(load_start[0], 2), round(load_end[0], 2)],
        },
        "date": time.strftime("%Y-%m-%d"),
        "cases": {case: {"argv": CASES[case][0], **row} for case, row in results.items()},
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
