"""What every command group shares: the parser class, reading TEXT, printing line by line,
run directories, and turning exceptions into exit codes.

Nothing here imports torch: `rnnlab --help` and the cipher commands load this module, and
a command that needs torch imports it inside its own function.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from rnnlab.errors import Interrupted, LostRank, UserError, as_flag, option_words
from rnnlab.io import decode_bytes

EXIT_FAILED = 1  # a run failed for a reason outside the user's input (a lost rank)
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's convention for "stopped by SIGINT"


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line, like every other user error."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        sys.exit(EXIT_USAGE)


# -- input and output -----------------------------------------------------------------


def read_text_arg(text: str | None) -> str:
    """TEXT from the command line, or stdin for '-' / no argument."""
    if text is not None and text != "-":
        return text
    if sys.stdin.isatty():
        raise UserError("no text given: pass TEXT or pipe it in on stdin")
    return decode_bytes(sys.stdin.buffer.read(), "<stdin>")


def write_lines(text: str, transform: Callable[[str], str]) -> None:
    """Apply `transform` to each line, keeping the line breaks exactly as given."""
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        sys.stdout.write(transform(body) + line[len(body) :])
    if text and not text.endswith(("\n", "\r")):
        sys.stdout.write("\n")


def positive_int_list(value: str) -> list[int]:
    try:
        items = [int(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {value!r}"
        ) from None
    if not items or any(v < 1 for v in items):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {value!r}")
    return items


# -- training runs --------------------------------------------------------------------


def check_precision(precision: str | None, device: str) -> None:
    """fp16 autocast is CUDA's; on a CPU say so before anything is written."""
    from rnnlab.device import resolve_device
    from rnnlab.train.precision import resolve_precision

    if precision is not None:
        resolve_precision(precision, resolve_device(device))


def default_out_dir(base: str) -> Path:
    """runs/<base>, or runs/<base>-2, -3, … : never on top of an existing checkpoint."""
    from rnnlab.checkpoint import is_checkpoint

    candidate = Path("runs") / base
    n = 2
    while is_checkpoint(candidate):
        candidate = Path("runs") / f"{base}-{n}"
        n += 1
    return candidate


def resolve_out_dir(args: argparse.Namespace, base: str) -> Path:
    """--out, or a fresh runs/<base>[-N]; --resume needs an explicit --out."""
    if args.resume and args.out is None:
        raise UserError("--resume needs --out DIR (the run to continue)")
    out = Path(args.out) if args.out else default_out_dir(base)
    args.out = str(out)  # for the Ctrl-C message
    return out


def add_run_args(p: argparse.ArgumentParser, out_name: str) -> None:
    """The flags every `… train` command shares besides the run's options: where its
    options come from, where it goes, resume, dry run."""
    p.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="a TOML file of options (name = value, as the flags are named); flags win",
    )
    p.add_argument(
        "--from",
        dest="from_run",
        default=None,
        metavar="RUN",
        help="start a new run with the options RUN was made with; flags and --config win",
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help=f"checkpoint directory (default: a new runs/{out_name})",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="train 2 steps into a temporary directory and reload; checks the setup",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar or eval lines")


def add_cipher_args(
    p: argparse.ArgumentParser,
    default: str | None = None,
    alphabet_help: str = "symbols the cipher works over (default: the family's)",
) -> None:
    p.add_argument(
        "--cipher",
        default=default,
        required=default is None,
        help="cipher family (see 'rnnlab cipher list')",
    )
    p.add_argument("--key", default=None, help="the cipher's key (default: the family's)")
    p.add_argument("--alphabet", default=None, help=alphabet_help)


# -- exit codes -----------------------------------------------------------------------


def run_command(args: argparse.Namespace) -> int:
    """Call the command's function; a user's mistake or Ctrl-C becomes a message and an exit
    code, never a traceback."""
    try:
        args.func(args)
    except LostRank as e:
        return fail(option_words(str(e), as_flag), EXIT_FAILED)
    except UserError as e:
        return fail(option_words(str(e), as_flag))
    except Interrupted as e:
        if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 says what it saved
            return EXIT_INTERRUPTED
        where = getattr(args, "out", None) or "the output directory"
        if e.step:
            sys.stderr.write(
                f"interrupted: saved step {e.step} to {where}; continue with --out {where} "
                f"--resume\n"
            )
        else:
            sys.stderr.write("interrupted before the first step; nothing saved\n")
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `rnnlab … | head` closing early is not an error
        sys.stderr.close()
        return 0
    return 0


def fail(message: str, code: int = EXIT_USAGE) -> int:
    sys.stderr.write(f"error: {message}\n")
    return code
