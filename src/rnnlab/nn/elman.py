"""The Elman RNN of seed 003, written out in PyTorch ops.

One layer is the seed's cell: h_t = tanh(i2h(x_t) + h2h(h_{t-1})), with `i2h` unbiased
and `h2h` biased. Layers stack as in torch.nn.RNN, with dropout between them. The input
projection of every time step is one matrix multiply before the loop — the only work
that does not depend on the previous step — so the loop does one (batch, H) x (H, H)
multiply per step.
"""

from __future__ import annotations

import torch
from torch import nn


class ElmanRNN(nn.Module):
    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.i2h = nn.ModuleList(
            nn.Linear(input_size if i == 0 else hidden_size, hidden_size, bias=False)
            for i in range(num_layers)
        )
        self.h2h = nn.ModuleList(nn.Linear(hidden_size, hidden_size) for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, x: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """x (batch, time, input) -> outputs (batch, time, hidden), h_n (layers, batch, hidden)."""
        batch, steps, _ = x.shape
        if h0 is None:
            h0 = x.new_zeros(self.num_layers, batch, self.hidden_size)
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
