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
from torch import _VF, nn
from torch.nn.utils.rnn import PackedSequence

from rnnlab.choices import IMPLS
from rnnlab.nn import recurrent
from rnnlab.nn.compiled import compiled_direction
from rnnlab.nn.dropout import dropout

RUNNERS = {"scratch": recurrent.scratch_direction, "compiled": compiled_direction}
# torch's one-call recurrent ops, by nn.RNNBase.mode: (x, state, weights, has_biases,
# layers, dropout, train, bidirectional, batch_first) -> (output, final state...)
LAYER_OPS = {"LSTM": _VF.lstm, "GRU": _VF.gru}


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
        if self.impl != "torch":
            return recurrent.forward(self, input, hx, RUNNERS[self.impl])
        if self._drops_between_layers_on_cpu(input):
            return self._layer_by_layer(input, hx)
        return super().forward(input, hx)

    def _drops_between_layers_on_cpu(self, input) -> bool:
        """Whether torch's fused multi-layer call would draw dropout masks on a CPU, where
        its bernoulli masks cost more than the cheap ones of rnnlab.nn.dropout (that module
        says how much). Only the plain shapes: a batch of sequences, one direction, no
        projection."""
        return (
            self.training
            and self.dropout > 0
            and self.num_layers > 1
            and self.mode in LAYER_OPS
            and not self.bidirectional
            and not getattr(self, "proj_size", 0)
            and isinstance(input, torch.Tensor)
            and input.dim() == 3
            and input.device.type == "cpu"
        )

    def _layer_by_layer(self, x: torch.Tensor, hx):
        """torch's forward one layer at a time (the same kernel, oneDNN's on a CPU, which
        runs layers one by one anyway), with rnnlab's dropout between layers."""
        lstm = self.mode == "LSTM"
        # As torch's forward does first: _flat_weights may still hold tensors that
        # functional_call (weight drop) swapped in and back out since the last call.
        self._update_flat_weights()
        if hx is None:
            zeros = x.new_zeros(
                self.num_layers, x.shape[0 if self.batch_first else 1], self.hidden_size
            )
            hx = (zeros, zeros) if lstm else zeros
        states = hx if lstm else (hx,)  # (h, c) or (h,), each (layers, batch, hidden)
        per_layer = len(self._flat_weights) // self.num_layers
        finals = []
        for layer in range(self.num_layers):
            if layer:
                x = dropout(x, self.dropout, training=True)
            weights = self._flat_weights[layer * per_layer : (layer + 1) * per_layer]
            state = tuple(s[layer : layer + 1] for s in states)
            x, *final = LAYER_OPS[self.mode](
                x,
                state if lstm else state[0],
                weights,
                self.bias,
                1,
                0.0,
                True,
                False,
                self.batch_first,
            )
            finals.append(final)
        joined = tuple(torch.cat(parts) for parts in zip(*finals, strict=True))
        return x, joined if lstm else joined[0]

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
