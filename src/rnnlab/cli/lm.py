"""`rnnlab lm train|eval|sample`: character-level language models.

torch and the task modules are imported inside each command, so that building the parser
(every `rnnlab` start) does not load them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from rnnlab.choices import IMPLS, LM_MODELS, LM_PRESETS, OPTIMIZERS, PRECISIONS, SCHEDULES
from rnnlab.cli.common import (
    IMPL_HELP,
    PRECISION_HELP,
    add_run_args,
    check_precision,
    resolve_out_dir,
)

# lm.build_run's setting names -> the flags (argparse names) that set them.
SETTING_FLAGS = {
    name: name
    for name in [
        "data",
        "encoding",
        "val_frac",
        "val_data",
        "model",
        "hidden",
        "embedding",
        "embedding_init",
        "layers",
        "dropout",
        "weight_drop",
        "variational",
        "seq_len",
        "shuffle_epochs",
        "batch_size",
        "steps",
        "lr",
        "optimizer",
        "weight_decay",
        "ema",
        "schedule",
        "grad_clip",
        "eval_every",
        "patience",
        "precision",
        "seed",
        "device",
        "tie_weights",
        "impl",
    ]
} | {"max_time_min": "max_time", "warmup_steps": "warmup"}


def cmd_lm_train(args: argparse.Namespace) -> None:
    from rnnlab import checkpoint as ckpt
    from rnnlab import lm
    from rnnlab.device import resolve_device
    from rnnlab.progress import TrainingProgress
    from rnnlab.train.distributed import is_main_process

    check_precision(args.precision, args.device)
    preset = args.preset or resolve_device(args.device).type
    overrides = {setting: getattr(args, flag) for setting, flag in SETTING_FLAGS.items()}
    run = lm.build_run(preset, overrides)
    if args.dry_run:
        run.train.steps, run.train.eval_every, run.train.max_time_min = 2, 2, None
        run.data.seq_len = min(run.data.seq_len, 16)
        with tempfile.TemporaryDirectory() as tmp:
            lm.train(run, Path(tmp) / "run", callbacks=TrainingProgress(quiet=True))
            if not is_main_process():  # under torchrun only rank 0 wrote the run
                return
            loaded = lm.load(Path(tmp) / "run", device=args.device)
            "".join(lm.sample(loaded, length=10))
        print("dry run ok: 2 steps trained, evaluated, saved, reloaded and sampled")
        return
    base = Path(args.data).stem if args.data else "tinyshakespeare"
    out = resolve_out_dir(args, f"lm-{base}")
    steps = args.steps if args.resume and args.steps is not None else None
    # On resume, options typed unlike the saved run's are refused, not silently ignored.
    chosen = frozenset(s for s, flag in SETTING_FLAGS.items() if flag in args.typed)
    lm.train(
        run,
        out,
        resume=args.resume,
        callbacks=TrainingProgress(args.quiet),
        steps=steps,
        chosen=chosen,
    )
    if not is_main_process():  # under torchrun rank 0 reports for the run
        return
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


# -- the parser -----------------------------------------------------------------------


def add_parser(commands) -> None:
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
        choices=list(LM_PRESETS),
        help="defaults to start from (default: the device's; seed: the recipe of the "
        "from-scratch RNN tutorial, seed 003, as a baseline)",
    )
    t.add_argument(
        "--model",
        default=None,
        choices=list(LM_MODELS),
        help="recurrent cell (elman: the from-scratch Elman cell of the seed 003 tutorial; "
        "mogrifier, lnlstm: Mogrifier and layer-normalised LSTMs)",
    )
    t.add_argument(
        "--impl",
        default="torch",
        choices=list(IMPLS),
        help=IMPL_HELP,
    )
    t.add_argument("--hidden", type=int, default=None, help="hidden units per layer")
    t.add_argument("--embedding", type=int, default=None, help="embedding size")
    t.add_argument(
        "--embedding-init",
        type=float,
        default=None,
        metavar="R",
        help="start the embedding uniform in [-R, R] (0: torch's N(0, 1))",
    )
    t.add_argument("--layers", type=int, default=None, help="stacked recurrent layers")
    t.add_argument("--dropout", type=float, default=None, help="dropout probability")
    t.add_argument(
        "--weight-drop",
        type=float,
        default=None,
        help="DropConnect probability on the hidden-to-hidden weights (not elman)",
    )
    t.add_argument(
        "--variational",
        default=None,
        action=argparse.BooleanOptionalAction,
        help="one dropout mask per sequence (locked dropout), not one per character",
    )
    t.add_argument(
        "--tie-weights",
        default=None,
        action=argparse.BooleanOptionalAction,
        help="share the embedding and output matrices",
    )
    t.add_argument("--seq-len", type=int, default=None, help="characters per TBPTT window")
    t.add_argument(
        "--shuffle-epochs",
        default=None,
        action=argparse.BooleanOptionalAction,
        help="start each pass over the text at a fresh random offset (stream layout)",
    )
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
    t.add_argument("--optimizer", default=None, choices=list(OPTIMIZERS))
    t.add_argument("--weight-decay", type=float, default=None, help="weight decay")
    t.add_argument(
        "--ema",
        type=float,
        default=None,
        help="evaluate and keep a moving average of the weights with this decay (0.999)",
    )
    t.add_argument("--warmup", type=int, default=None, help="learning-rate warm-up steps")
    t.add_argument(
        "--schedule",
        default=None,
        choices=list(SCHEDULES),
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
        choices=list(PRECISIONS),
        help=PRECISION_HELP + "; default: the preset's",
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
    e.add_argument(
        "--last",
        action="store_true",
        help="the last weights (their moving average with --ema), not the best",
    )
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
