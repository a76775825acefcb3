"""Autocast per device: `auto` resolves to bf16 only where the CPU multiplies it natively,
fp16 stays CUDA's (that a bf16 CPU run learns: test_lm.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from rnnlab.errors import UserError
from rnnlab.train import precision

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
