"""`rnnlab decipher train|eval|run`: learn a cipher from examples, then decrypt with it.

torch and the task modules are imported inside each command, so that building the parser
(every `rnnlab` start) does not load them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from rnnlab.cli.common import (
    add_run_args,
    check_precision,
    positive_int_list,
    read_text_arg,
    resolve_out_dir,
    write_lines,
)
from rnnlab.cli.options import add_declared_options, given_options, saved_options
from rnnlab.errors import UserError
from rnnlab.options.decipher import DECIPHER


def cmd_decipher_train(args: argparse.Namespace) -> None:
    from rnnlab import decipher
    from rnnlab.progress import TrainingProgress, percent
    from rnnlab.train.distributed import is_main_process

    saved = None
    if args.from_run:
        saved = saved_options(args.from_run, "decipher", decipher.options_of_config)
    options = given_options(args, DECIPHER, saved)
    check_precision(options.get("precision"), options.get("device"))
    run = decipher.build_run(options)
    if args.dry_run:
        run.train.steps = run.train.eval_every = 2
        run.data.val_examples = 16
        with tempfile.TemporaryDirectory() as tmp:
            decipher.train(run, Path(tmp) / "run", callbacks=TrainingProgress(quiet=True))
            if not is_main_process():  # under torchrun only rank 0 wrote the run
                return
            decipher.load(Path(tmp) / "run", device=run.train.device)
        print("dry run ok: 2 steps trained, evaluated, saved and reloaded")
        return
    base = Path(run.data.pairs).stem if run.data.pairs else run.data.cipher
    out = resolve_out_dir(args, f"decipher-{base}")
    _, result = decipher.train(run, out, resume=args.resume, callbacks=TrainingProgress(args.quiet))
    if not is_main_process():  # under torchrun rank 0 reports for the run
        return
    loaded = decipher.load(out, device=run.train.device)
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
        raise UserError("`show_key` needs a two-pass model (the only kind that names a key)")
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
        "train",
        help="train a decipher model (no flags: the seed's shift-13 task)",
        description="Options come from the flags, a --config file and a --from run, in that "
        "order of precedence; the rest take their defaults.",
    )
    add_declared_options(t, DECIPHER)
    add_run_args(t, out_name="decipher-NAME")
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
