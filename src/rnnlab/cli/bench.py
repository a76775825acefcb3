"""`rnnlab bench`: throughput of each model and impl against torch.nn and the FLOP ceiling."""

from __future__ import annotations

import argparse
import json

from rnnlab.choices import BENCH_CASES, PRECISIONS
from rnnlab.errors import UserError
from rnnlab.options.common import PRECISION_HELP


def cmd_bench(args: argparse.Namespace) -> None:
    from rnnlab import bench

    if args.reps < 1:
        raise UserError(f"--reps must be at least 1, got {args.reps}")
    result = bench.run(
        args.device,
        args.case,
        args.reps,
        args.precision,
        quick=args.quick,
        train_path=not args.no_train_path,
        threads=args.threads,
    )
    print(json.dumps(result) if args.json else bench.format_table(result))


def add_parser(commands) -> None:
    b = commands.add_parser(
        "bench", help="throughput of each model x impl against torch.nn and the FLOP ceiling"
    )
    b.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    b.add_argument(
        "--case",
        action="append",
        default=None,
        choices=list(BENCH_CASES),
        help="a case to run (repeatable; default: all, without scratch on lm on a CPU)",
    )
    b.add_argument("--reps", type=int, default=3, help="interleaved repetitions (median)")
    b.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    b.add_argument(
        "--precision",
        default="fp32",
        choices=list(PRECISIONS),
        help=PRECISION_HELP + "; default fp32",
    )
    b.add_argument(
        "--no-train-path",
        action="store_true",
        help="skip the lm-train-path rows (rnnlab's Trainer vs a bare loop)",
    )
    b.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)  # tests: tiny case
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(func=cmd_bench)
