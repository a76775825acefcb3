"""`rnnlab cipher list|encrypt|decrypt`: the classical ciphers, no model and no torch."""

from __future__ import annotations

import argparse

from rnnlab.cli.common import add_cipher_args, read_text_arg, write_lines


def cmd_cipher_list(args: argparse.Namespace) -> None:
    from rnnlab.ciphers import cipher_class, cipher_names

    for name in cipher_names():
        cls = cipher_class(name)
        print(f"{name:<12} {cls.summary}  [alphabet {cls.default_alphabet}]")


def cmd_cipher_apply(args: argparse.Namespace) -> None:
    from rnnlab.ciphers import get_cipher

    cipher = get_cipher(args.cipher, key=args.key, alphabet=args.alphabet)
    text = read_text_arg(args.text)
    write_lines(text, cipher.encrypt if args.direction == "encrypt" else cipher.decrypt)


def add_parser(commands) -> None:
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
