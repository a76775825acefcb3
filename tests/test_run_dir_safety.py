"""Nothing written under a run directory lands outside it, and loading runs no code."""

from __future__ import annotations

import os
import pickle

import pytest
import torch

from rnnlab import checkpoint as ckpt
from rnnlab import decipher
from rnnlab.errors import UserError

from .helpers import assert_one_line_error, run_cli, tiny_run


@pytest.fixture
def trained(tmp_path):
    out = tmp_path / "run"
    decipher.train(tiny_run(steps=4), out)
    return out


def test_resume_refuses_a_dangling_link_at_metrics_jsonl(trained, tmp_path, capsys):
    outside = tmp_path / "outside" / "stolen.jsonl"
    outside.parent.mkdir()
    (trained / ckpt.METRICS).unlink()
    (trained / ckpt.METRICS).symlink_to(outside)  # dangling: the target does not exist
    code, _, err = run_cli(
        ["decipher", "train", "--out", str(trained), "--resume", "--steps", "8"], capsys
    )
    assert_one_line_error(code, err, "is a symbolic link")
    assert not outside.exists()


def test_resume_refuses_a_link_to_a_file_elsewhere_and_leaves_it_alone(trained, tmp_path):
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me\n")
    (trained / ckpt.METRICS).unlink()
    (trained / ckpt.METRICS).symlink_to(outside)
    with pytest.raises(UserError, match="symbolic link"):
        decipher.train(tiny_run(steps=8), trained, resume=True, steps=8)
    assert outside.read_text() == "keep me\n"


def test_appending_never_follows_a_link(tmp_path):
    from rnnlab.io import append_lines

    target = tmp_path / "elsewhere"
    link = tmp_path / "metrics.jsonl"
    link.symlink_to(target)
    with pytest.raises(UserError, match="symbolic link"):
        append_lines(link, ["{}\n"])
    assert not target.exists()


def test_plot_replaces_a_linked_metrics_png_and_leaves_its_target_alone(trained, tmp_path):
    from rnnlab.plot import plot_metrics

    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(b"not yours")
    (trained / "metrics.png").symlink_to(outside)
    out = plot_metrics(trained)
    assert not out.is_symlink() and out.read_bytes().startswith(b"\x89PNG")
    assert outside.read_bytes() == b"not yours"


class _Payload:
    """Unpickling this would run code: it creates a marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_trainer_state_carrying_pickled_code_is_refused_and_never_run(trained, tmp_path):
    marker = tmp_path / "code-ran"
    state = torch.load(trained / ckpt.TRAINER_STATE, weights_only=True)
    state["payload"] = _Payload(str(marker))
    with open(trained / ckpt.TRAINER_STATE, "wb") as f:
        torch.save(state, f, pickle_module=pickle)
    with pytest.raises(UserError, match="corrupted"):
        decipher.train(tiny_run(steps=8), trained, resume=True, steps=8)
    assert not marker.exists()
    # and the crafted file really would run code if unpickled without the guard
    torch.load(trained / ckpt.TRAINER_STATE, weights_only=False)
    assert marker.exists()
