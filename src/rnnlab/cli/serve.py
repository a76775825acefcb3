"""`rnnlab serve`: the command line of the local web page (rnnlab.serve).

Nothing here imports the web stack at module level: `rnnlab serve --help` works without the
`serve` extra, and running without it is one line saying how to install it.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

from rnnlab.errors import UserError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
INSTALL_HINT = "rnnlab serve needs the serve extra: pip install 'rnnlab[serve]'"


def add_parser(commands) -> None:
    p = commands.add_parser(
        "serve",
        help="a local web page: ciphers, cracking, runs and their curves, generation, training",
        description="Serve one page for every job: encrypt and decrypt, crack a ciphertext, "
        "browse the runs in --runs with their loss and accuracy curves (live while they "
        "train), decrypt and generate with trained models, start and stop training. The "
        "JSON API behind it is documented at /docs. Needs pip install 'rnnlab[serve]'.",
    )
    p.add_argument(
        "--runs",
        default="runs",
        metavar="DIR",
        help="the directory of runs to show, and where training from the page writes "
        "(default: ./runs, where 'decipher train' and 'lm train' write)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only). Any other "
        "address lets others on the network use the page, its models and its CPU",
    )
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> None:
    try:
        import uvicorn

        from rnnlab.serve import create_app
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    runs = Path(args.runs)
    if runs.exists() and not runs.is_dir():
        raise UserError(f"--runs {runs}: not a directory")
    if not 0 < args.port < 65536:
        raise UserError(f"--port must be 1-65535, got {args.port}")
    check_free(args.host, args.port)
    loopback = args.host in LOOPBACK
    if not loopback:
        sys.stderr.write(
            f"warning: listening on {args.host}, not this machine only: anyone who can reach "
            f"it can use the page, read the runs in {runs} and train on this CPU\n"
        )
    # On loopback, answer only requests addressed to it: a web page elsewhere cannot reach
    # this server through a DNS name pointed at 127.0.0.1.
    app = create_app(runs, allowed_hosts=LOOPBACK if loopback else None)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    sys.stderr.write(
        f"rnnlab serve: http://{shown}:{args.port}/  (runs from {runs.absolute()}; Ctrl-C stops)\n"
    )
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


def check_free(host: str, port: int) -> None:
    """A taken port or an unknown address is a one-line error, not uvicorn's log."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise UserError(f"--host {host}: {e.strerror}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(address)
        except OSError as e:
            raise UserError(f"cannot listen on {host}:{port}: {e.strerror}") from None
