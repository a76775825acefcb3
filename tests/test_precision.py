"""Autocast per device: `auto` resolves to bf16 only where the CPU multiplies it natively,
a bf16 CPU run trains as well as fp32 does, fp16 stays CUDA's."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnlab import lm
from rnnlab.errors import UserError
from rnnlab.train import precision
from tests.test_lm import TEXT, tiny_lm_run, unigram_entropy

CPU = torch.device("cpu")


@pytest.mark.parametrize("native", [True, False])
def test_auto_is_bf16_exactly_where_the_cpu_multiplies_it_natively(monkeypatch, native):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: native)
    assert precision.resolve_precision("auto", CPU) == ("bf16" if native else "fp32")


def test_native_bf16_probe_answers_a_bool():
    assert isinstance(precision.cpu_has_native_bf16(), bool)


def test_explicit_choices_are_kept_and_fp16_on_a_cpu_is_refused():
    assert precision.resolve_precision("fp32", CPU) == "fp32"
    assert precision.resolve_precision("bf16", CPU) == "bf16"
    with pytest.raises(UserError, match="fp16 needs a CUDA device"):
        precision.resolve_precision("fp16", CPU)
    with pytest.raises(UserError, match="unknown precision"):
        precision.resolve_precision("fp8", CPU)


def test_cpu_autocast_runs_products_in_bf16_and_fp32_leaves_them_alone():
    layer = nn.Linear(8, 4)
    x = torch.randn(2, 8)
    with precision.autocast("bf16", CPU):
        assert layer(x).dtype == torch.bfloat16
    with precision.autocast("fp32", CPU):
        assert layer(x).dtype == torch.float32


@pytest.fixture
def text_file(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_a_bf16_cpu_run_learns_as_the_fp32_run_does(text_file):
    losses = {}
    for name in ("fp32", "bf16"):
        run = tiny_lm_run(text_file, steps=120, precision=name)
        _, result = lm.train(run, text_file.parent / name)
        losses[name] = result["loss"]
    assert losses["bf16"] < unigram_entropy(TEXT) - 0.5
    # same seed, same batches: only the rounding of the products differs
    assert abs(losses["bf16"] - losses["fp32"]) < 0.1, losses
