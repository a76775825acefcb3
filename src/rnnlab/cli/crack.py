"""`rnnlab crack`: the command line over rnnlab.crack.

The classical attacks need numpy only; torch is loaded (by rnnlab.crack) only for --model.
"""

from __future__ import annotations

import argparse
import json
import sys

from rnnlab.cli.common import read_text_arg
from rnnlab.errors import UserError


def cmd_crack(args: argparse.Namespace) -> None:
    from tqdm import tqdm

    from rnnlab.crack import crack

    if args.time_limit is not None and args.time_limit <= 0:
        raise UserError("--time-limit must be a positive number of seconds")
    text = read_text_arg(args.text)
    # disable=None: the bar shows on a terminal only, never in pipes or CI logs.
    with tqdm(desc="hill climbing", unit="climb", disable=None, leave=False) as bar:

        def on_restart(climbs: int, best: float) -> None:
            bar.update(1)
            bar.set_postfix(best=f"{best:.1f}", refresh=False)

        result = crack(
            text,
            cipher=args.cipher,
            time_limit=args.time_limit,
            seed=args.seed,
            corpus=args.corpus,
            on_restart=on_restart,
            model_dir=args.model,
            hybrid=args.hybrid,
        )
    if args.json:
        print(json.dumps(result.to_json()))
        return
    if result.identified is not None:
        how = f"identified, confidence {result.identified.confidence:.1%}"
    else:
        how = "given" if args.cipher else f"read by the model in {args.model}"
    key = "-" if result.key is None else result.key
    sys.stderr.write(
        f"cipher: {result.cipher} ({how})  key: {key}  score: {result.per_letter:.2f} "
        f"nats/letter (English text scores about -2.1)\n"
    )
    sys.stdout.write(
        result.plaintext if result.plaintext.endswith("\n") else result.plaintext + "\n"
    )


def add_parser(commands) -> None:
    p = commands.add_parser(
        "crack",
        help="break a ciphertext without its key (classical attacks, or a trained model)",
        description="Recover the plaintext and key of a classical cipher over the letters "
        "A-Z. Without --cipher the family is identified first. Non-letters keep their places.",
    )
    p.add_argument(
        "text", nargs="?", default=None, metavar="TEXT", help="ciphertext, or - for stdin"
    )
    p.add_argument(
        "--cipher",
        default=None,
        help="the family, if known: caesar, rot13, atbash, affine, vigenere, beaufort, "
        "autokey, substitution (default: identify it)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--time-limit",
        type=float,
        default=30.0,
        metavar="S",
        help="stop searching after S seconds and report the best found (default 30)",
    )
    p.add_argument("--seed", type=int, default=0, help="random restarts follow this seed")
    p.add_argument(
        "--corpus",
        default=None,
        metavar="FILE",
        help="text in the plaintext's language for the n-gram scorer (default: the shipped "
        "English corpus)",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="DIR",
        help="a decipher model trained with --key-mode unknown: let it read the ciphertext",
    )
    p.add_argument(
        "--hybrid",
        action="store_true",
        help="with --model on substitution: start the hill climb from the model's reading",
    )
    p.set_defaults(func=cmd_crack)
