"""The commands that need no model start without torch, and the CLI's torch-free option
names agree with what the library accepts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from rnnlab.choices import SCHEDULES

# Runs `python -m rnnlab ARGS` in this interpreter (runpy executes rnnlab/__main__.py as -m
# does), then fails with exit code 99 if anything imported torch along the way.
PROBE = """
import runpy, sys
sys.argv = ["rnnlab", *sys.argv[1:]]
try:
    runpy.run_module("rnnlab", run_name="__main__", alter_sys=True)
    code = 0
except SystemExit as e:
    code = e.code
sys.stdout.flush()
if "torch" in sys.modules:
    sys.stderr.write("torch was imported\\n")
    sys.exit(99)
sys.exit(code)
"""


def run_without_torch(args: list[str], tmp_path) -> subprocess.CompletedProcess:
    # The n-gram scorer `crack` builds is cached; keep it out of the user's cache.
    env = os.environ | {"RNNLAB_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert "torch was imported" not in proc.stderr, proc.stderr
    return proc


def test_help_starts_without_torch(tmp_path):
    proc = run_without_torch(["--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: rnnlab")
    for command in ("cipher", "decipher", "lm", "crack", "bench", "plot"):
        assert command in proc.stdout


def test_cipher_encrypt_runs_without_torch(tmp_path):
    proc = run_without_torch(["cipher", "encrypt", "--cipher", "rot13", "HELLO"], tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "URYYB\n", "")


def test_cipher_list_runs_without_torch(tmp_path):
    proc = run_without_torch(["cipher", "list"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert {"caesar", "rot13", "vigenere", "substitution"} <= set(names)


def test_classical_crack_runs_without_torch(tmp_path):
    proc = run_without_torch(["crack", "--cipher", "caesar", "Wkh nhb lv xqghu wkh pdw."], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "The key is under the mat.\n"
    assert "key: 3" in proc.stderr


def test_a_user_mistake_is_still_one_line_without_torch(tmp_path):
    proc = run_without_torch(["cipher", "encrypt", "--cipher", "nope", "HELLO"], tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown cipher 'nope'")
    assert proc.stderr.count("\n") == 1


# -- the option names the parser offers are the ones the library takes --------------------


def test_choice_names_match_the_torch_side_tables():
    from rnnlab import bench, choices, lm
    from rnnlab.models.tagger import RNN_CLASSES
    from rnnlab.train import optim, precision

    assert tuple(RNN_CLASSES) == choices.RNN_MODELS
    assert tuple(optim.OPTIMIZERS) == choices.OPTIMIZERS
    assert precision.NAMES == choices.PRECISIONS
    assert tuple(lm.PRESETS) == choices.LM_PRESETS
    assert tuple(bench.CASES) == choices.BENCH_CASES


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_every_schedule_offered_is_accepted(schedule):
    from rnnlab.train import TrainConfig

    assert TrainConfig(schedule=schedule).schedule == schedule


def test_a_schedule_not_offered_is_refused():
    from rnnlab import UserError
    from rnnlab.train import TrainConfig

    assert "linear" not in SCHEDULES
    with pytest.raises(UserError, match="unknown schedule"):
        TrainConfig(schedule="linear")
