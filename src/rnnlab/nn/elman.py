"""The Elman RNN of seed 003, written out in PyTorch ops.

Seed 003 is the fourth of the tutorials rnnlab grows from: an RNN cell built from scratch
and trained as a character language model (docs/architecture.md lists the domain words).

One layer is the seed's cell: h_t = tanh(i2h(x_t) + h2h(h_{t-1})), with `i2h` unbiased
and `h2h` biased. Layers stack as in torch.nn.RNN, with dropout between them. The input
projection of every time step is one matrix multiply before the loop — the only work
that does not depend on the previous step — so the loop does one (batch, H) x (H, H)
multiply per step.

The parameters keep the seed's names (i2h.0.weight, h2h.0.weight, h2h.0.bias), so its
checkpoints load; `impl` only changes who computes the same function:

    "scratch"   the loop below, exactly as the seed writes it (the reference)
    "compiled"  rnnlab.nn's hand-derived backward pass (compiled.py) over these weights
    "torch"     torch.nn.RNN (cuDNN / oneDNN) called on these weights, with a zero
                input bias standing in for the bias i2h does not have
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from rnnlab.choices import IMPLS
from rnnlab.nn import recurrent
from rnnlab.nn.compiled import compiled_direction
from rnnlab.nn.dropout import Dropout


class ElmanRNN(nn.Module):
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        impl: str = "scratch",
    ) -> None:
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"unknown impl {impl!r}; use {', '.join(IMPLS)}")
        self.impl = impl
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.i2h = nn.ModuleList(
            nn.Linear(input_size if i == 0 else hidden_size, hidden_size, bias=False)
            for i in range(num_layers)
        )
        self.h2h = nn.ModuleList(nn.Linear(hidden_size, hidden_size) for _ in range(num_layers))
        self.dropout = Dropout(dropout)  # torch's, with a cheaper CPU mask
        # A parameterless torch.nn.RNN of the same shape, called with our weights; kept out
        # of the module tree (a plain list) so it adds nothing to the state_dict.
        self._shell = [
            nn.RNN(input_size, hidden_size, num_layers, dropout=dropout, batch_first=True)
        ]

    def forward(
        self, x: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, time, input) -> outputs (batch, time, hidden), h_n (layers, batch, hidden)."""
        batch, steps, _ = x.shape
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, batch, self.hidden_size)
        if self.impl == "torch":
            return self._torch_forward(x, h0)
        if self.impl == "compiled":
            out, h_n, _ = recurrent.run_stack(
                "RNN_TANH",
                lambda layer, _d: (
                    self.i2h[layer].weight,
                    self.h2h[layer].weight,
                    None,
                    self.h2h[layer].bias,
                ),
                self.num_layers,
                1,
                self.dropout.p if self.training else 0.0,
                x.transpose(0, 1),
                h0,
                None,
                None,
                compiled_direction,
            )
            return out.transpose(0, 1), h_n
        finals = []
        layer_input = x
        for layer in range(self.num_layers):
            if layer > 0:
                layer_input = self.dropout(layer_input)
            projected = self.i2h[layer](layer_input)  # (batch, time, hidden), all steps at once
            h = h0[layer]
            outputs = []
            for t in range(steps):
                h = torch.tanh(projected[:, t] + self.h2h[layer](h))
                outputs.append(h)
            layer_input = torch.stack(outputs, dim=1)
            finals.append(h)
        return layer_input, torch.stack(finals)

    def _torch_forward(
        self, x: torch.Tensor, h0: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        shell = self._shell[0]
        shell.train(self.training)
        weights = {}
        for layer in range(self.num_layers):
            bias = self.h2h[layer].bias
            weights[f"weight_ih_l{layer}"] = self.i2h[layer].weight
            weights[f"weight_hh_l{layer}"] = self.h2h[layer].weight
            weights[f"bias_ih_l{layer}"] = torch.zeros_like(bias)
            weights[f"bias_hh_l{layer}"] = bias
        return functional_call(shell, weights, (x, h0))
