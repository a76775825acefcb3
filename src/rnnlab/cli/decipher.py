"""`rnnlab decipher train|eval|run`: learn a cipher from examples, then decrypt with it.

torch and the task modules are imported inside each command, so that building the parser
(every `rnnlab` start) does not load them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import fields
from pathlib import Path

from rnnlab.choices import IMPLS, KEY_MODES, POOLINGS, PRECISIONS, RNN_MODELS, SCHEDULES
from rnnlab.cli.common import (
    IMPL_HELP,
    PRECISION_HELP,
    add_cipher_args,
    add_run_args,
    check_precision,
    positive_int_list,
    read_text_arg,
    resolve_out_dir,
    write_lines,
)
from rnnlab.errors import UserError


def cmd_decipher_train(args: argparse.Namespace) -> None:
    from rnnlab import decipher
    from rnnlab.progress import TrainingProgress, percent
    from rnnlab.train.distributed import is_main_process

    check_precision(args.precision, args.device)
    precision = args.precision or "fp32"
    options = {f.name: getattr(args, f.name) for f in fields(decipher.DecipherOptions)}
    run = decipher.build_run(decipher.DecipherOptions(**options | {"precision": precision}))
    if args.dry_run:
        run.train.steps = run.train.eval_every = 2
        run.data.val_examples = 16
        with tempfile.TemporaryDirectory() as tmp:
            decipher.train(run, Path(tmp) / "run", callbacks=TrainingProgress(quiet=True))
            if not is_main_process():  # under torchrun only rank 0 wrote the run
                return
            decipher.load(Path(tmp) / "run", device=args.device)
        print("dry run ok: 2 steps trained, evaluated, saved and reloaded")
        return
    base = Path(args.pairs).stem if args.pairs else args.cipher
    out = resolve_out_dir(args, f"decipher-{base}")
    steps = args.steps if args.resume and args.steps_given else None
    # On resume, options typed unlike the saved run's are refused, not silently ignored.
    chosen = decipher.fields_of_options(args.typed)
    _, result = decipher.train(
        run,
        out,
        resume=args.resume,
        callbacks=TrainingProgress(args.quiet),
        steps=steps,
        chosen=chosen,
    )
    if not is_main_process():  # under torchrun rank 0 reports for the run
        return
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
    from rnnlab.progress import percent

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


# -- the parser -----------------------------------------------------------------------


def add_parser(commands) -> None:
    dec = commands.add_parser("decipher", help="learn a cipher from examples, then decrypt")
    dec_cmds = dec.add_subparsers(dest="subcommand", required=True, metavar="ACTION")
    t = dec_cmds.add_parser(
        "train", help="train a decipher model (no flags: the seed's shift-13 task)"
    )
    add_cipher_args(
        t,
        default="caesar",
        alphabet_help="symbols the cipher works over (default: for caesar the seed task's 27, "
        "A-Z plus '-'; for other families their own)",
    )
    t.add_argument(
        "--key-mode",
        default="fixed",
        choices=list(KEY_MODES),
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
        "--arch",
        default=None,
        choices=["keyed", "rotor"],
        help="given mode: keyed (an LSTM that attends over the key; the default) or rotor "
        "(learned counters that drive learned tables; the default for enigma)",
    )
    t.add_argument(
        "--curriculum",
        type=int,
        default=None,
        metavar="STEPS",
        help="given/unknown: train STEPS steps on messages of 1 character, then 2, 4, … up "
        "to --seq-len, with as many characters per step (0: --seq-len from the start; "
        "default: 50 for --arch rotor, else 0)",
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
        choices=list(POOLINGS),
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
    t.add_argument("--model", default="lstm", choices=list(RNN_MODELS), help="recurrent cell")
    t.add_argument(
        "--impl",
        default="torch",
        choices=list(IMPLS),
        help=IMPL_HELP,
    )
    t.add_argument(
        "--precision",
        default=None,
        choices=list(PRECISIONS),
        help=PRECISION_HELP + "; default fp32",
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
    t.add_argument(
        "--max-time",
        type=float,
        default=None,
        metavar="MIN",
        help="stop after MIN minutes of training (not counting evaluation) if --steps "
        "has not stopped it first",
    )
    t.add_argument("--batch-size", type=int, default=64, help="messages per step")
    t.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    t.add_argument("--grad-clip", type=float, default=1.0, help="max gradient norm (0: off)")
    t.add_argument(
        "--schedule",
        default="constant",
        choices=list(SCHEDULES),
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
