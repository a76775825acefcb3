"""`rnnlab plot`: training and validation curves of a run, as an image."""

from __future__ import annotations

import argparse


def cmd_plot(args: argparse.Namespace) -> None:
    from rnnlab.plot import plot_metrics

    out = plot_metrics(args.dir, args.output)
    print(f"wrote {out}")


def add_parser(commands) -> None:
    pl = commands.add_parser("plot", help="plot training and validation curves of a run")
    pl.add_argument("dir", metavar="DIR", help="checkpoint directory")
    pl.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE.png",
        help="image to write (default: DIR/metrics.png)",
    )
    pl.set_defaults(func=cmd_plot)
