"""The command line: argument parsing and printing, over the library's plain functions.

Every user mistake surfaces as one `error: …` line on stderr and exit code 2.

Every start builds the whole parser, so building it imports only argparse, the option
names (rnnlab.choices) and cli.common; each command imports the library it uses when it
runs. `rnnlab --help`, `rnnlab cipher …` and classical `rnnlab crack` never load torch.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import rnnlab
from rnnlab.cli import bench, cipher, crack, decipher, lm, plot, serve
from rnnlab.cli.common import Parser, fail, run_command

__all__ = ["build_parser", "main"]

DESCRIPTION = (
    "rnnlab: character-level recurrent networks. Encrypt and decrypt with classical ciphers, "
    "train a network to decrypt a cipher from examples, break a cipher without its key, and "
    "train a language model on any text file and generate text from it."
)

# One module per command group, in the order `rnnlab --help` lists them.
COMMAND_GROUPS = (cipher, decipher, lm, crack, bench, plot, serve)


def build_parser() -> Parser:
    parser = Parser(prog="rnnlab", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"rnnlab {rnnlab.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in COMMAND_GROUPS:
        group.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    # argparse matches DIR and TEXT in one go, so `decipher run DIR --key K TEXT` would leave
    # TEXT over; take it as the text when that is all that is left ("-" included: stdin).
    leftover_text = len(extras) == 1 and (extras[0] == "-" or not extras[0].startswith("-"))
    if (
        leftover_text
        and getattr(args, "func", None) is decipher.cmd_decipher_run
        and args.text is None
    ):
        args.text, extras = extras[0], []
    if extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    if getattr(args, "examples", 1) < 1:
        raise SystemExit(fail("--examples must be at least 1"))
    return run_command(args)
