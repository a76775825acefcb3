"""`rnnlab …`: argument parsing and printing, over the library's plain functions.

Every user mistake surfaces as one `error: …` line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import NoReturn

import rnnlab
from rnnlab import checkpoint as ckpt
from rnnlab.ciphers import cipher_class, cipher_names, get_cipher
from rnnlab.cli_crack import add_crack_command
from rnnlab.cli_serve import add_parser as add_serve_parser
from rnnlab.data.textfile import decode_bytes
from rnnlab.errors import UserError
from rnnlab.models.tagger import RNN_CLASSES
from rnnlab.progress import TrainingProgress, percent
from rnnlab.train import Interrupted

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # the shell's convention for "stopped by SIGINT"
IMPL_HELP = (
    "who computes the RNN: torch (cuDNN/oneDNN), scratch (rnnlab's cells, a Python loop) "
    "or compiled (rnnlab's cells with a hand-written backward pass); same weights"
)


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


def check_precision(precision: str | None, device: str) -> None:
    """Reduced precision is CUDA autocast; on a CPU say so rather than ignore the flag."""
    from rnnlab.device import resolve_device

    if precision in ("bf16", "fp16") and resolve_device(device).type != "cuda":
        raise UserError(f"--precision {precision} needs a CUDA device; on a CPU train in fp32")


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


def resolve_out_dir(args: argparse.Namespace, base: str) -> Path:
    """--out, or a fresh runs/<base>[-N]; --resume needs an explicit --out."""
    if args.resume and args.out is None:
        raise UserError("--resume needs --out DIR (the run to continue)")
    out = Path(args.out) if args.out else default_out_dir(base)
    args.out = str(out)  # for the Ctrl-C message
    return out


def cmd_decipher_train(args: argparse.Namespace) -> None:
    from rnnlab import decipher

    check_precision(args.precision, args.device)
    options = {f.name: getattr(args, f.name) for f in fields(decipher.DecipherOptions)}
    options["precision"] = args.precision or "fp32"
    run = decipher.build_run(decipher.DecipherOptions(**options))
    if args.dry_run:
        run.train.steps = run.train.eval_every = 2
        run.data.val_examples = 16
        with tempfile.TemporaryDirectory() as tmp:
            decipher.train(run, Path(tmp) / "run", callbacks=TrainingProgress(quiet=True))
            decipher.load(Path(tmp) / "run", device=args.device)
        print("dry run ok: 2 steps trained, evaluated, saved and reloaded")
        return
    base = Path(args.pairs).stem if args.pairs else args.cipher
    out = resolve_out_dir(args, f"decipher-{base}")
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
    key_hint = " --key KEY" if loaded.key_mode == "given" else ""
    print(f"saved to {out}  (try: rnnlab decipher run {out}{key_hint} TEXT)")


def cmd_decipher_eval(args: argparse.Namespace) -> None:
    from rnnlab import decipher

    loaded = decipher.load(args.dir, device=args.device)
    lengths = args.lengths or [loaded.config["data"]["seq_len"]]
    result = decipher.evaluate(loaded, lengths, args.examples, args.seed, args.pairs)
    if args.json:
        print(json.dumps(result))
        return
    named = result.get("key_accuracy")  # the two-pass model names each message's key
    key_head = f"  {'key named':>9}" if named else ""
    print(
        f"{'length':>8}  {'char acc':>9}  {'message acc':>11}{key_head}   "
        f"({result['examples']} messages)"
    )
    for length, acc in result["accuracy"].items():
        row = f"{length:>8}  {percent(acc):>9}  {percent(result['message_accuracy'][length]):>11}"
        print(row + (f"  {percent(named[length]):>9}" if named else ""))
    if "held_out_keys" in result:
        keys = "keys held out from training"
        if not result["held_out_keys"]:
            keys = "random keys (this family's key space is too small to hold keys out)"
        print(f"key mode {result['key_mode']}: {keys}")


def cmd_decipher_run(args: argparse.Namespace) -> None:
    from rnnlab import decipher

    loaded = decipher.load(args.dir, device=args.device)
    decipher.key_tensors(loaded, args.key)  # a missing or unneeded key fails before reading
    if args.show_key and not loaded.model.names_keys:
        raise UserError("--show-key needs a --two-pass model (the only kind that names a key)")
    text = read_text_arg(args.text)

    def transform(line: str) -> str:
        if args.show_key and line:
            # stderr, so that stdout stays the plaintext alone, line for line
            print(f"key: {decipher.named_key(loaded, line)}", file=sys.stderr)
        return decipher.decrypt(loaded, line, key=args.key)

    write_lines(text, transform)


# -- rnnlab lm …  ---------------------------------------------------------------------


def cmd_lm_train(args: argparse.Namespace) -> None:
    from rnnlab import lm
    from rnnlab.device import resolve_device

    check_precision(args.precision, args.device)
    preset = args.preset or resolve_device(args.device).type
    overrides = {
        "data": args.data,
        "encoding": args.encoding,
        "val_frac": args.val_frac,
        "val_data": args.val_data,
        "model": args.model,
        "hidden": args.hidden,
        "embedding": args.embedding,
        "layers": args.layers,
        "dropout": args.dropout,
        "seq_len": args.seq_len,
        "batch_size": args.batch_size,
        "steps": args.steps,
        "max_time_min": args.max_time,
        "lr": args.lr,
        "optimizer": args.optimizer,
        "weight_decay": args.weight_decay,
        "warmup_steps": args.warmup,
        "schedule": args.schedule,
        "grad_clip": args.grad_clip,
        "eval_every": args.eval_every,
        "patience": args.patience,
        "precision": args.precision,
        "seed": args.seed,
        "device": args.device,
        "tie_weights": args.tie_weights,
        "impl": args.impl,
    }
    run = lm.build_run(preset, overrides)
    if args.dry_run:
        run.train.steps, run.train.eval_every, run.train.max_time_min = 2, 2, None
        run.data.seq_len = min(run.data.seq_len, 16)
        with tempfile.TemporaryDirectory() as tmp:
            lm.train(run, Path(tmp) / "run", callbacks=TrainingProgress(quiet=True))
            loaded = lm.load(Path(tmp) / "run", device=args.device)
            "".join(lm.sample(loaded, length=10))
        print("dry run ok: 2 steps trained, evaluated, saved, reloaded and sampled")
        return
    base = Path(args.data).stem if args.data else "tinyshakespeare"
    out = resolve_out_dir(args, f"lm-{base}")
    steps = args.steps if args.resume and args.steps is not None else None
    lm.train(run, out, resume=args.resume, callbacks=TrainingProgress(args.quiet), steps=steps)
    # The best validation recorded in training, not a new pass: on a multi-GB corpus a full
    # pass over the validation text can take longer than training did (`lm eval` does it).
    best = min(
        (r for r in ckpt.read_metrics(out / ckpt.METRICS) if r.get("split") == "val"),
        key=lambda r: r["loss"],
    )
    print(
        f"best validation loss {best['loss']:.4f} nats/char ({best['bpc']:.3f} bits/char) at "
        f"step {best['step']}, on {best['chars']} validation characters"
    )
    print(f"saved to {out}  (evaluate: rnnlab lm eval {out}; sample: rnnlab lm sample {out})")


def cmd_lm_eval(args: argparse.Namespace) -> None:
    from rnnlab import lm

    loaded = lm.load(args.dir, device=args.device, last=args.last)
    result = lm.evaluate(loaded, args.data, args.encoding, args.columns)
    if args.json:
        result["loss_nats"] = result.pop("loss")
        print(json.dumps(result))
        return
    print(
        f"{result['loss']:.4f} nats/char  {result['bpc']:.4f} bits/char  on {result['chars']} "
        f"characters of {result['data']} ({result['weights']})"
    )
    if result["oov"]:
        print(f"{result['oov']} characters outside the vocabulary were not scored")


def cmd_lm_sample(args: argparse.Namespace) -> None:
    from rnnlab import lm

    lm.check_sampling_args(args.temperature, args.top_k, args.top_p, args.length)
    loaded = lm.load(args.dir, device=args.device)
    prime = args.prime if args.prime is not None else ""
    stream = lm.sample(
        loaded, prime, args.length, args.temperature, args.top_k, args.top_p, args.seed
    )
    sys.stdout.write(prime)
    for ch in stream:  # streamed: each character appears as soon as it is drawn
        sys.stdout.write(ch)
        sys.stdout.flush()
    sys.stdout.write("\n")


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


def cmd_plot(args: argparse.Namespace) -> None:
    from rnnlab.plot import plot_metrics

    out = plot_metrics(args.dir, args.output)
    print(f"wrote {out}")


# -- the parser -----------------------------------------------------------------------


def add_run_args(p: argparse.ArgumentParser, seed_default: int | None, out_name: str) -> None:
    """The flags every `… train` command shares: where, on what, resume, dry run."""
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--seed", type=int, default=seed_default, help="random seed (weights, data)")
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
        help="fixed: one key (--key) for all messages; given: a random key per message, "
        "handed to the model; unknown: a random key per message the model must infer",
    )
    t.add_argument(
        "--key-length",
        default=None,
        metavar="LO-HI",
        help="given/unknown: length range of random key words, e.g. 3-12 (the default) or 5",
    )
    t.add_argument(
        "--feed-location",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="given mode (on by default): feed the last step's attention over the key back "
        "into the LSTM; without it the model must count positions and drifts on long texts",
    )
    t.add_argument(
        "--two-pass",
        action="store_true",
        help="unknown mode: a first pass names each message's key (trained on the keys the "
        "messages were made with), a second decrypts under it",
    )
    t.add_argument(
        "--key-pooling",
        default="attention",
        choices=["attention", "periodic", "symbol"],
        help="--two-pass: how each key slot reads the message — attention (a learned query "
        "per slot, assumes nothing), periodic (slot j of a length-n key reads every n-th "
        "character from j: keys that repeat, like vigenere's) or symbol (each ciphertext "
        "symbol's frequency and bigram neighbours: keys that are a table, like "
        "substitution's)",
    )
    t.add_argument(
        "--feedback",
        type=int,
        default=0,
        metavar="W",
        help="also read the model's own last W outputs (teacher-forced in training, greedy "
        "in use); for ciphers whose key runs over the plaintext, like autokey",
    )
    t.add_argument(
        "--plaintext",
        default="random",
        help="plaintext: random (uniform symbols, the seed's), english (the shipped "
        "corpus) or a text FILE",
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
        help=IMPL_HELP,
    )
    t.add_argument(
        "--precision",
        default=None,
        choices=["fp32", "bf16", "fp16"],
        help="autocast precision (CUDA only; default fp32)",
    )
    t.add_argument("--embedding", type=int, default=32, help="embedding size")
    t.add_argument(
        "--hidden",
        type=int,
        default=None,
        help="hidden units per layer (default 128; 256 for the keyed and feedback models)",
    )
    t.add_argument("--layers", type=int, default=1, help="stacked recurrent layers")
    t.add_argument("--bidirectional", action="store_true", help="read messages both ways")
    t.add_argument("--dropout", type=float, default=0.0, help="dropout between layers")
    t.add_argument("--seq-len", type=int, default=32, help="message length in training")
    t.add_argument("--steps", type=int, default=300, help="optimiser steps")
    t.add_argument("--batch-size", type=int, default=64, help="messages per step")
    t.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    t.add_argument("--grad-clip", type=float, default=1.0, help="max gradient norm (0: off)")
    t.add_argument(
        "--schedule",
        default="constant",
        choices=["constant", "cosine"],
        help="learning rate: constant, or cosine decay to a tenth over the steps",
    )
    t.add_argument("--eval-every", type=int, default=100, help="steps between validations")
    t.add_argument(
        "--val-examples", type=int, default=1000, help="held-out messages for validation"
    )
    add_run_args(t, seed_default=0, out_name="decipher-NAME")
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
    r.add_argument(
        "--key", default=None, help="the message's key (models trained with --key-mode given)"
    )
    r.add_argument(
        "--show-key",
        action="store_true",
        help="two-pass models: print the key named for each line on stderr",
    )
    r.add_argument("--device", default="auto", help="auto, cpu or cuda")
    r.set_defaults(func=cmd_decipher_run)

    add_lm_commands(commands)
    add_crack_command(commands)
    add_serve_parser(commands)

    b = commands.add_parser(
        "bench", help="throughput of each model x impl against torch.nn and the FLOP ceiling"
    )
    b.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    b.add_argument(
        "--case",
        action="append",
        default=None,
        choices=["lm", "small", "decipher"],
        help="a case to run (repeatable; default: all, without scratch on lm on a CPU)",
    )
    b.add_argument("--reps", type=int, default=3, help="interleaved repetitions (median)")
    b.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    b.add_argument(
        "--precision",
        default="fp32",
        choices=["fp32", "bf16", "fp16"],
        help="autocast precision (CUDA only)",
    )
    b.add_argument(
        "--no-train-path",
        action="store_true",
        help="skip the lm-train-path rows (rnnlab's Trainer vs a bare loop)",
    )
    b.add_argument("--quick", action="store_true", help=argparse.SUPPRESS)  # tests: tiny case
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(func=cmd_bench)

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
    return parser


def add_lm_commands(commands) -> None:
    lmp = commands.add_parser("lm", help="character-level language models: train, eval, sample")
    lm_cmds = lmp.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    t = lm_cmds.add_parser(
        "train",
        help="train a language model (no --data: the shipped Tiny Shakespeare)",
        description="Flags left out take the defaults of the device (cpu or cuda), or of --preset.",
    )
    t.add_argument("--data", default=None, metavar="FILE", help="UTF-8 text file to learn")
    t.add_argument("--encoding", default=None, help="text encoding of --data (default utf-8)")
    t.add_argument(
        "--val-frac",
        type=float,
        default=None,
        help="last fraction of --data held out for validation (default 0.1)",
    )
    t.add_argument(
        "--val-data",
        default=None,
        metavar="FILE",
        help="validate on this file instead (then all of --data trains)",
    )
    t.add_argument(
        "--preset",
        default=None,
        choices=["cpu", "cuda", "seed"],
        help="defaults to start from (default: the device's; seed: seed 003)",
    )
    t.add_argument(
        "--model",
        default=None,
        choices=["lstm", "gru", "elman"],
        help="recurrent cell (elman: seed 003's, written from scratch)",
    )
    t.add_argument(
        "--impl",
        default="torch",
        choices=["torch", "scratch", "compiled"],
        help=IMPL_HELP,
    )
    t.add_argument("--hidden", type=int, default=None, help="hidden units per layer")
    t.add_argument("--embedding", type=int, default=None, help="embedding size")
    t.add_argument("--layers", type=int, default=None, help="stacked recurrent layers")
    t.add_argument("--dropout", type=float, default=None, help="dropout probability")
    t.add_argument(
        "--tie-weights",
        default=None,
        action=argparse.BooleanOptionalAction,
        help="share the embedding and output matrices",
    )
    t.add_argument("--seq-len", type=int, default=None, help="characters per TBPTT window")
    t.add_argument("--batch-size", type=int, default=None, help="parallel streams per step")
    budget = t.add_mutually_exclusive_group()
    budget.add_argument("--steps", type=int, default=None, help="optimiser steps")
    budget.add_argument(
        "--max-time",
        type=float,
        default=None,
        metavar="MIN",
        help="train for this many minutes instead of a number of steps",
    )
    t.add_argument("--lr", type=float, default=None, help="peak learning rate")
    t.add_argument("--optimizer", default=None, choices=["adam", "adamw", "rmsprop"])
    t.add_argument("--weight-decay", type=float, default=None, help="weight decay")
    t.add_argument("--warmup", type=int, default=None, help="learning-rate warm-up steps")
    t.add_argument(
        "--schedule",
        default=None,
        choices=["constant", "cosine"],
        help="learning-rate schedule after warm-up",
    )
    t.add_argument("--grad-clip", type=float, default=None, help="max gradient norm (0: off)")
    t.add_argument("--eval-every", type=int, default=None, help="steps between validations")
    t.add_argument(
        "--patience",
        type=int,
        default=None,
        help="stop after this many validations without improvement (0: never)",
    )
    t.add_argument(
        "--precision",
        default=None,
        choices=["fp32", "bf16", "fp16"],
        help="autocast precision (CUDA only; default: the preset's)",
    )
    add_run_args(t, seed_default=None, out_name="lm-NAME")
    t.set_defaults(func=cmd_lm_train)

    e = lm_cmds.add_parser("eval", help="loss and bits per character on held-out text")
    e.add_argument("dir", metavar="DIR", help="checkpoint directory")
    e.add_argument(
        "--data",
        default=None,
        metavar="FILE",
        help="evaluate on this whole file (default: the run's validation split)",
    )
    e.add_argument("--encoding", default="utf-8", help="text encoding of --data")
    e.add_argument(
        "--columns",
        type=int,
        default=None,
        help="parallel streams to cut the text into (1: one exact stream)",
    )
    e.add_argument("--last", action="store_true", help="the last weights, not the best")
    e.add_argument("--device", default="auto", help="auto, cpu or cuda")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.set_defaults(func=cmd_lm_eval)

    s = lm_cmds.add_parser("sample", help="generate text from a trained model")
    s.add_argument("dir", metavar="DIR", help="checkpoint directory")
    s.add_argument("--prime", default=None, help="text to start from (printed first)")
    s.add_argument("--length", type=int, default=500, help="characters to generate")
    s.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="softmax temperature; 0 picks the most likely character",
    )
    s.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest (0: all)")
    s.add_argument("--top-p", type=float, default=1.0, help="nucleus: smallest set of mass p")
    s.add_argument("--seed", type=int, default=0, help="same seed, same text")
    s.add_argument("--device", default="auto", help="auto, cpu or cuda")
    s.set_defaults(func=cmd_lm_sample)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    # argparse matches DIR and TEXT in one go, so `decipher run DIR --key K TEXT` would leave
    # TEXT over; take it as the text when that is all that is left ("-" included: stdin).
    leftover_text = len(extras) == 1 and (extras[0] == "-" or not extras[0].startswith("-"))
    if leftover_text and getattr(args, "func", None) is cmd_decipher_run and args.text is None:
        args.text, extras = extras[0], []
    if extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
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
