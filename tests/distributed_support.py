"""Starting a data-parallel run from a test: N ranks of `python -m rnnlab …` on this machine
(gloo on the CPU), either through torchrun itself or started one by one with the
environment torchrun would give them. The second way leaves no agent to kill the other
ranks when one dies, so they must notice on their own, as ranks on other nodes do."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

LAUNCH_TIMEOUT_S = 180  # far above the few seconds a tiny run takes on a busy 2-core box


@dataclass
class Finished:
    code: int
    out: str
    err: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without any rank of its own, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in RANK_VARIABLES}
    return env | (extra or {})


RANK_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE", "MASTER_PORT")


def start_ranks(
    args: list[str], world: int, cwd: Path, env: dict[str, str] | None = None
) -> list[subprocess.Popen]:
    """`python -m rnnlab ARGS` as ranks 0 … world-1 of one run, as torchrun starts them."""
    port = str(free_port())
    procs = []
    for rank in range(world):
        rank_env = {
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(world),
            "LOCAL_WORLD_SIZE": str(world),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": port,
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "rnnlab", *args],
                cwd=cwd,
                env=child_env((env or {}) | rank_env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    return procs


def finish(proc: subprocess.Popen, timeout: float = LAUNCH_TIMEOUT_S) -> Finished:
    out, err = proc.communicate(timeout=timeout)
    return Finished(proc.returncode, out, err)


def run_ranks(
    args: list[str], cwd: Path, world: int = 2, env: dict[str, str] | None = None
) -> list[Finished]:
    procs = start_ranks(args, world, cwd, env)
    try:
        return [finish(p) for p in procs]
    finally:
        for p in procs:
            p.kill()


def torchrun_command(args: list[str], nproc: int = 2) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        str(nproc),
        "-m",
        "rnnlab",
        *args,
    ]


def torchrun(
    args: list[str], cwd: Path, nproc: int = 2, env: dict[str, str] | None = None
) -> Finished:
    done = subprocess.run(
        torchrun_command(args, nproc),
        cwd=cwd,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=LAUNCH_TIMEOUT_S,
    )
    return Finished(done.returncode, done.stdout, done.stderr)


def wait_for(path: Path, procs: list[subprocess.Popen], timeout: float = 120) -> None:
    """Until `path` exists; fails early, with the ranks' errors, if a rank has exited."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        ended = [p for p in procs if p.poll() is not None]
        if ended:
            raise AssertionError(f"a rank exited early: {ended[0].communicate()[1]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.1)
