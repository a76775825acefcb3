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

from rnnlab.cli.common import add_run_args, check_precision, resolve_out_dir
from rnnlab.cli.options import add_declared_options, given_options, saved_options
from rnnlab.options.lm import LM


def cmd_lm_train(args: argparse.Namespace) -> None:
    from rnnlab import checkpoint as ckpt
    from rnnlab import lm
    from rnnlab.progress import TrainingProgress
    from rnnlab.train.distributed import is_main_process

    saved = saved_options(args.from_run, "lm", lm.options_of_config) if args.from_run else None
    options = given_options(args, LM, saved)
    check_precision(options.given.get("precision"), options.get("device"))
    run = lm.build_run(options)
    if args.dry_run:
        run.train.steps, run.train.eval_every, run.train.max_time_min = 2, 2, None
        run.data.seq_len = min(run.data.seq_len, 16)
        with tempfile.TemporaryDirectory() as tmp:
            lm.train(run, Path(tmp) / "run", callbacks=TrainingProgress(quiet=True))
            if not is_main_process():  # under torchrun only rank 0 wrote the run
                return
            loaded = lm.load(Path(tmp) / "run", device=run.train.device)
            "".join(lm.sample(loaded, length=10))
        print("dry run ok: 2 steps trained, evaluated, saved, reloaded and sampled")
        return
    base = Path(run.data.data).stem if run.data.data else "tinyshakespeare"
    out = resolve_out_dir(args, f"lm-{base}")
    lm.train(run, out, resume=args.resume, callbacks=TrainingProgress(args.quiet))
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
        description="Options come from the flags, a --config file and a --from run, in that "
        "order of precedence; the rest take the defaults of the device (cpu or cuda), or "
        "of --preset.",
    )
    add_declared_options(t, LM)
    add_run_args(t, out_name="lm-NAME")
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
