"""`rnnlab …`: argument parsing and printing, over the library's plain functions.

Every user mistake surfaces as one `error: …` line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import rnnlab
from rnnlab import checkpoint as ckpt
from rnnlab.ciphers import cipher_class, cipher_names, get_cipher
from rnnlab.data.textfile import decode_bytes
from rnnlab.errors import UserError
from rnnlab.models.decipherer import RNN_CLASSES, DecipherModelConfig
from rnnlab.progress import TrainingProgress, percent
from rnnlab.train import Interrupted, TrainConfig

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's convention for "stopped by SIGINT"


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line, like every other user error."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        sys.exit(EXIT_USAGE)


# -- shared input helpers -------------------------------------------------------------


def read_text_arg(text: str | None) -> str:
    """TEXT from the command line, or stdin for '-' / no argument."""
    if text is not None and text != "-":
        return text
    if sys.stdin.isatty():
        raise UserError("no text given: pass TEXT or pipe it in on stdin")
    return decode_bytes(sys.stdin.buffer.read(), "<stdin>")


def write_lines(text: str, transform) -> None:
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


# -- rnnlab cipher …  -----------------------------------------------------------------


def cmd_cipher_list(args: argparse.Namespace) -> None:
    for name in cipher_names():
        cls = cipher_class(name)
        print(f"{name:<12} {cls.summary}  [alphabet {cls.default_alphabet}]")


def cmd_cipher_apply(args: argparse.Namespace) -> None:
    cipher = get_cipher(args.cipher, key=args.key, alphabet=args.alphabet)
    text = read_text_arg(args.text)
    write_lines(text, cipher.encrypt if args.direction == "encrypt" else cipher.decrypt)


# -- rnnlab decipher …  ---------------------------------------------------------------


def default_out_dir(base: str) -> Path:
    """runs/<base>, or runs/<base>-2, -3, … : never on top of an existing checkpoint."""
    candidate = Path("runs") / base
    n = 2
    while ckpt.is_checkpoint(candidate):
        candidate = Path("runs") / f"{base}-{n}"
        n += 1
    return candidate


def cmd_decipher_train(args: argparse.Namespace) -> None:
    from rnnlab import decipher

    if args.impl != "torch":
        raise UserError(f"--impl {args.impl} is not available yet; only 'torch' is")
    run = decipher.DecipherRun(
        data=decipher.DecipherDataConfig(
            cipher=args.cipher,
            key=args.key,
            alphabet=args.alphabet,
            key_mode=args.key_mode,
            plaintext=args.plaintext,
            pairs=args.pairs,
            seq_len=args.seq_len,
            val_examples=args.val_examples,
        ),
        # vocabulary sizes are filled in from the data once it is read
        model=DecipherModelConfig(
            in_vocab_size=1,
            out_vocab_size=1,
            model=args.model,
            embedding=args.embedding,
            hidden=args.hidden,
            layers=args.layers,
            bidirectional=args.bidirectional,
            dropout=args.dropout,
        ),
        train=TrainConfig(
            steps=args.steps,
            batch_size=args.batch_size,
            lr=args.lr,
            grad_clip=args.grad_clip,
            eval_every=args.eval_every,
            seed=args.seed,
            device=args.device,
        ),
    )
    if args.dry_run:
        run.train.steps = run.train.eval_every = 2
        run.data.val_examples = 16
        with tempfile.TemporaryDirectory() as tmp:
            decipher.train(run, Path(tmp) / "run", callbacks=TrainingProgress(quiet=True))
            decipher.load(Path(tmp) / "run", device=args.device)
        print("dry run ok: 2 steps trained, evaluated, saved and reloaded")
        return
    if args.resume and args.out is None:
        raise UserError("--resume needs --out DIR (the run to continue)")
    base = Path(args.pairs).stem if args.pairs else args.cipher
    out = Path(args.out) if args.out else default_out_dir(f"decipher-{base}")
    args.out = str(out)  # for the Ctrl-C message
    steps = args.steps if args.resume and args.steps_given else None
    _, result = decipher.train(
        run, out, resume=args.resume, callbacks=TrainingProgress(args.quiet), steps=steps
    )
    loaded = decipher.load(out, device=args.device)
    print(
        f"held-out character accuracy: {percent(result['accuracy'])}, whole messages "
        f"{percent(result['message_accuracy'])} ({result['messages']} messages never seen "
        f"in training)"
    )
    sample = decipher.sample_ciphertext(loaded)
    if sample:
        print(f"decrypt {sample} -> {decipher.decrypt(loaded, sample)}")
    print(f"saved to {out}  (try: rnnlab decipher run {out} TEXT)")


def cmd_decipher_eval(args: argparse.Namespace) -> None:
    from rnnlab import decipher

    loaded = decipher.load(args.dir, device=args.device)
    lengths = args.lengths or [loaded.config["data"]["seq_len"]]
    result = decipher.evaluate(loaded, lengths, args.examples, args.seed, args.pairs)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{'length':>8}  {'char acc':>9}  {'message acc':>11}   ({result['examples']} messages)")
    for length, acc in result["accuracy"].items():
        print(f"{length:>8}  {percent(acc):>9}  {percent(result['message_accuracy'][length]):>11}")


def cmd_decipher_run(args: argparse.Namespace) -> None:
    from rnnlab import decipher

    loaded = decipher.load(args.dir, device=args.device)
    text = read_text_arg(args.text)
    write_lines(text, lambda line: decipher.decrypt(loaded, line))


# -- the parser -----------------------------------------------------------------------


def add_cipher_args(p: argparse.ArgumentParser, default: str | None = None) -> None:
    p.add_argument(
        "--cipher",
        default=default,
        required=default is None,
        help="cipher family (see 'rnnlab cipher list')",
    )
    p.add_argument("--key", default=None, help="the cipher's key (default: the family's)")
    p.add_argument(
        "--alphabet", default=None, help="symbols the cipher works over (default: the family's)"
    )


def build_parser() -> Parser:
    parser = Parser(prog="rnnlab", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"rnnlab {rnnlab.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    # cipher
    cipher = commands.add_parser("cipher", help="classical ciphers: list, encrypt, decrypt")
    cipher_cmds = cipher.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    cipher_cmds.add_parser("list", help="list the registered ciphers").set_defaults(
        func=cmd_cipher_list
    )
    for direction in ("encrypt", "decrypt"):
        p = cipher_cmds.add_parser(direction, help=f"{direction} TEXT (or stdin)")
        add_cipher_args(p)
        p.add_argument("text", nargs="?", metavar="TEXT", help="the text, or - for stdin")
        p.set_defaults(func=cmd_cipher_apply, direction=direction)

    # decipher
    dec = commands.add_parser("decipher", help="learn a cipher from examples, then decrypt")
    dec_cmds = dec.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    t = dec_cmds.add_parser(
        "train", help="train a decipher model (no flags: the seed's shift-13 task)"
    )
    add_cipher_args(t, default="caesar")
    t.add_argument(
        "--key-mode",
        default="fixed",
        choices=["fixed", "given", "unknown"],
        help="one key for all messages (fixed); given/unknown are not built yet",
    )
    t.add_argument(
        "--plaintext",
        default="random",
        help="plaintext source: random uniform symbols, as in the seed",
    )
    t.add_argument(
        "--pairs",
        default=None,
        metavar="FILE",
        help="train on a file of plaintext<TAB>ciphertext lines instead of a cipher",
    )
    t.add_argument("--model", default="lstm", choices=list(RNN_CLASSES), help="recurrent cell")
    t.add_argument(
        "--impl",
        default="torch",
        choices=["torch", "scratch", "compiled"],
        help="RNN implementation (only torch for now)",
    )
    t.add_argument("--embedding", type=int, default=32, help="embedding size")
    t.add_argument("--hidden", type=int, default=128, help="hidden units per layer")
    t.add_argument("--layers", type=int, default=1, help="stacked recurrent layers")
    t.add_argument("--bidirectional", action="store_true", help="read messages both ways")
    t.add_argument("--dropout", type=float, default=0.0, help="dropout between layers")
    t.add_argument("--seq-len", type=int, default=32, help="message length in training")
    t.add_argument("--steps", type=int, default=300, help="optimiser steps")
    t.add_argument("--batch-size", type=int, default=64, help="messages per step")
    t.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    t.add_argument("--grad-clip", type=float, default=1.0, help="max gradient norm (0: off)")
    t.add_argument("--eval-every", type=int, default=100, help="steps between validations")
    t.add_argument(
        "--val-examples", type=int, default=1000, help="held-out messages for validation"
    )
    t.add_argument("--device", default="auto", help="auto, cpu or cuda")
    t.add_argument("--seed", type=int, default=0, help="random seed (weights and data)")
    t.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="checkpoint directory (default: a new runs/decipher-NAME)",
    )
    t.add_argument("--resume", action="store_true", help="continue the run in --out")
    t.add_argument(
        "--dry-run",
        action="store_true",
        help="train 2 steps into a temporary directory and reload; checks the setup",
    )
    t.add_argument("--quiet", action="store_true", help="no progress bar or eval lines")
    t.set_defaults(func=cmd_decipher_train)

    e = dec_cmds.add_parser("eval", help="accuracy on fresh messages at several lengths")
    e.add_argument("dir", metavar="DIR", help="checkpoint directory")
    e.add_argument(
        "--lengths",
        type=positive_int_list,
        default=None,
        help="comma-separated message lengths (default: the training length)",
    )
    e.add_argument("--examples", type=int, default=1000, help="messages per length")
    e.add_argument(
        "--pairs",
        default=None,
        metavar="FILE",
        help="evaluate on a plaintext<TAB>ciphertext file instead",
    )
    e.add_argument("--seed", type=int, default=1234, help="seed for the fresh messages")
    e.add_argument("--device", default="auto", help="auto, cpu or cuda")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.set_defaults(func=cmd_decipher_eval)

    r = dec_cmds.add_parser("run", help="decrypt TEXT (or stdin) with a trained model")
    r.add_argument("dir", metavar="DIR", help="checkpoint directory")
    r.add_argument("text", nargs="?", metavar="TEXT", help="ciphertext, or - for stdin")
    r.add_argument("--device", default="auto", help="auto, cpu or cuda")
    r.set_defaults(func=cmd_decipher_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    # On resume, --steps extends the saved run only when the user actually typed it.
    args.steps_given = any(a == "--steps" or a.startswith("--steps=") for a in argv)
    if getattr(args, "examples", 1) < 1:
        raise SystemExit(_fail("--examples must be at least 1"))
    try:
        args.func(args)
    except UserError as e:
        return _fail(str(e))
    except Interrupted as e:
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


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
