"""What the LSTM variants of rnnlab.nn share: the layer stack around a per-layer loop, and
the LSTM's gate arithmetic.

A variant (mogrifier.py, layernorm.py) writes `run_layer` — one layer over the whole
sequence — and inherits torch.nn.LSTM's batch_first contract:

    module(x (B, T, I), state=None | (h (L, B, H), c (L, B, H))) -> (out (B, T, H), (h, c))

Layers stack as in torch.nn.LSTM: dropout on each layer's output except the last, in
training only. No packed sequences, no bidirectional layers: the character LM needs neither.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnlab.nn.dropout import dropout as cheap_dropout  # self.dropout is the rate

LSTMState = tuple[torch.Tensor, torch.Tensor]


def lstm_update(pre: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """pre (B, 4H), the summed gate pre-activations in torch.nn's order (i, f, g, o), and
    the previous cell c -> the new cell c' and o, the output gate:

        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)

    One sigmoid over all four chunks (the g chunk's is wasted) costs less on a CPU than
    three calls on a quarter each: every call is a dispatch and, in backward, a node."""
    s = torch.sigmoid(pre)
    i, f, _, o = s.chunk(4, dim=-1)
    hidden = c.shape[-1]
    g = torch.tanh(pre.narrow(-1, 2 * hidden, hidden))
    return torch.addcmul(f * c, i, g), o


class LSTMStack(nn.Module):
    """num_layers layers of hidden_size units; subclasses add their parameters per layer
    (calling `uniform_init` for torch.nn.LSTM's initialisation) and write `run_layer`."""

    def __init__(
        self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0
    ) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be >= 1, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.hidden_size

    def uniform_init(self, *params: torch.Tensor) -> None:
        """torch.nn.LSTM's initialisation: U(-1/sqrt(H), 1/sqrt(H))."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in params:
                p.uniform_(-bound, bound)

    def run_layer(
        self, layer: int, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x (B, T, in) and the layer's state h, c (B, H) -> out (B, T, H), h_T, c_T."""
        raise NotImplementedError

    def forward(
        self, x: torch.Tensor, state: LSTMState | None = None
    ) -> tuple[torch.Tensor, LSTMState]:
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"expected input (batch, time, {self.input_size}), got {tuple(x.shape)}"
            )
        shape = (self.num_layers, x.shape[0], self.hidden_size)
        if state is None:
            h0 = c0 = x.new_zeros(shape)
        else:
            h0, c0 = state
            for s in (h0, c0):
                if tuple(s.shape) != shape:
                    raise ValueError(f"expected state {shape}, got {tuple(s.shape)}")
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            if layer and self.dropout and self.training:
                x = cheap_dropout(x, self.dropout)
            x, h, c = self.run_layer(layer, x, h0[layer], c0[layer])
            finals_h.append(h)
            finals_c.append(c)
        return x, (torch.stack(finals_h), torch.stack(finals_c))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}"
        return s + (f", dropout={self.dropout}" if self.dropout else "")
