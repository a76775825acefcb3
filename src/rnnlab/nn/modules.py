"""rnnlab.nn.RNN / LSTM / GRU: torch.nn's layers with a choice of implementation.

They *are* torch.nn.RNN / LSTM / GRU (subclasses): the same constructor arguments,
parameters, initialisation, state_dict keys and forward contract, so a checkpoint or a
caller written for torch.nn works unchanged. `impl` picks who computes forward():

    "torch"     torch.nn itself: cuDNN on a GPU, oneDNN / ATen on a CPU
    "scratch"   the cells of cells.py in a Python loop over time steps, autograd for the
                backward pass: the readable reference
    "compiled"  the same maths with the backward pass through time written by hand
                (compiled.py): one autograd node per layer and direction
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from rnnlab.choices import IMPLS
from rnnlab.nn import recurrent
from rnnlab.nn.compiled import compiled_direction

RUNNERS = {"scratch": recurrent.scratch_direction, "compiled": compiled_direction}


def check_impl(impl: str) -> str:
    if impl not in IMPLS:
        raise ValueError(f"unknown impl {impl!r}; use {', '.join(IMPLS)}")
    return impl


class _ImplMixin:
    """forward() by torch.nn for impl="torch", else by rnnlab's stack over the same
    parameters. Must come before the torch.nn class in the bases."""

    mode: str
    proj_size: int

    def _init_impl(self, impl: str) -> None:
        self.impl = check_impl(impl)
        if impl != "torch" and getattr(self, "proj_size", 0):
            raise ValueError("proj_size is only supported with impl='torch'")

    def forward(self, input: torch.Tensor | PackedSequence, hx=None):
        if self.impl == "torch":
            return super().forward(input, hx)
        return recurrent.forward(self, input, hx, RUNNERS[self.impl])

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, impl={self.impl!r}"


class RNN(_ImplMixin, nn.RNN):
    """torch.nn.RNN (Elman, tanh or relu) with `impl`."""

    def __init__(self, *args, impl: str = "torch", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_impl(impl)


class LSTM(_ImplMixin, nn.LSTM):
    """torch.nn.LSTM with `impl` (proj_size only with impl="torch")."""

    def __init__(self, *args, impl: str = "torch", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_impl(impl)


class GRU(_ImplMixin, nn.GRU):
    """torch.nn.GRU with `impl`."""

    def __init__(self, *args, impl: str = "torch", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._init_impl(impl)
