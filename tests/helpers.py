"""Small builders shared by the tests: a fast decipher run, CLI invocation, and loading a
benchmark script."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from rnnlab.cli import main
from rnnlab.decipher import DecipherDataConfig, DecipherRun
from rnnlab.models.tagger import TaggerConfig
from rnnlab.train import TrainConfig


def tiny_run(steps: int = 20, **model_kw) -> DecipherRun:
    """A run small enough to train in a fraction of a second on one core."""
    return DecipherRun(
        data=DecipherDataConfig(seq_len=12, val_examples=50),
        model=TaggerConfig(**({"embedding": 8, "hidden": 16} | model_kw)),
        train=TrainConfig(steps=steps, batch_size=8, eval_every=5, log_every=5, device="cpu"),
    )


def train_shared(tmp_path_factory, name: str, run: DecipherRun) -> tuple[Path, dict]:
    """Train `run` once for a module's tests (one thread: the tests run side by side with
    nothing else, and small models gain nothing from two)."""
    import torch

    from rnnlab import decipher

    out = tmp_path_factory.mktemp(name) / "run"
    torch.set_num_threads(1)
    _, result = decipher.train(run, out)
    return out, result


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Run `rnnlab ARGS` in-process; returns (exit code, stdout, stderr)."""
    try:
        code = main(args)
    except SystemExit as e:  # argparse exits on its own for usage errors and --help
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def run_cli_process(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run the real entry point in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "rnnlab", *args], input=stdin, capture_output=True, timeout=120
    )


def assert_one_line_error(code: int, stderr: str, fragment: str) -> None:
    """A user mistake: exit code 2 and one `error: …` line naming the problem."""
    assert code == 2
    assert stderr.startswith("error: ") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    assert fragment in stderr


def dir_files(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def load_benchmark(relative: str) -> ModuleType:
    """benchmarks/RELATIVE as a module: the benchmarks are scripts, not a package."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
