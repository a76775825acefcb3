"""How often a two-rank CPU run aborts at exit: launch the same tiny LM run on two ranks
(the test suite's launcher: RANK/WORLD_SIZE set by hand, rank 0 hosts the store) again and
again for a while and count the launches where any rank exits non-zero.

    python benchmarks/distributed/teardown_abort.py --seconds 240 --json OUT.json

Run it alone. Before the trainer (and the DDP wrapper it holds) was freed inside the
process group, rank 1 aborted at exit in 4 of 60 launches with "terminate called without
an active exception".
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.distributed_support import run_ranks  # noqa: E402
from tests.test_distributed import lm_args  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=240)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    failures: list[dict] = []
    launches = 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "corpus.txt").write_text("the quick brown fox jumps over the lazy dog\n" * 400)
        deadline = time.time() + args.seconds
        while time.time() < deadline:
            out = f"run{launches}"
            ranks = run_ranks(lm_args(work, out, steps=4), cwd=work)
            launches += 1
            if any(r.code for r in ranks):
                failures.append(
                    {"launch": launches, "codes": [r.code for r in ranks]}
                    | {"stderr": [r.err[-500:] for r in ranks]}
                )
            shutil.rmtree(work / out, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    result = {
        "machine": f"{platform.machine()}, {platform.processor() or '?'}, Python "
        f"{platform.python_version()}",
        "commit": commit.stdout.strip(),
        "seconds": args.seconds,
        "launches": launches,
        "failed_launches": len(failures),
        "failures": failures,
    }
    print(json.dumps({k: v for k, v in result.items() if k != "failures"}))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
