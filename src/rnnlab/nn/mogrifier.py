"""The Mogrifier LSTM (Melis, Kočiský & Blunsom, "Mogrifier LSTM", ICLR 2020).

Before each LSTM step the input x and the previous output h gate each other for r rounds
(j = 1..r), then an ordinary LSTM step runs on the mogrified pair:

    j odd:   x <- 2 sigmoid(Q_j h) * x        Q_j: (input, hidden)
    j even:  h <- 2 sigmoid(R_j x) * h        R_j: (hidden, input)
    (i, f, g, o) = W_ih x + b_ih + W_hh h + b_hh;   c' = sigmoid(f) c + sigmoid(i) tanh(g)
    h' = sigmoid(o) tanh(c')

Only the gates see the mogrified h; c is untouched. The factor 2 keeps a gate of 0.5 (its
value at zero) the identity. With `rank` k, each Q_j and R_j is a product of two factors,
(out, k) x (k, in), as the paper does for its large models; the default is full rank.

The LSTM's own parameters keep torch.nn.LSTM's names (weight_ih_l0, bias_hh_l1, ...), so
with rounds=0 a torch.nn.LSTM's state_dict loads as it is and the two compute the same.

Because the input term W_ih x now depends on the state, nothing of a step can be hoisted
out of the loop as the plain LSTM does. The loop is kept lean instead: the two biases are
summed once per sequence, the step is two addmm calls, and the 2 of every round is moved
into the weights (below, `_scaled_weights`) rather than spent as a multiply per round.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnnlab.nn.stack import LSTMStack, lstm_update


class MogrifierLSTM(LSTMStack):
    """A multi-layer Mogrifier LSTM, batch first: (B, T, input) -> (B, T, hidden)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        rounds: int = 5,
        rank: int | None = None,
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers, dropout)
        if rounds < 0:
            raise ValueError(f"rounds must be >= 0, got {rounds}")
        if rank is not None and rank < 1:
            raise ValueError(f"rank must be >= 1 (or None for full rank), got {rank}")
        self.rounds = rounds
        self.rank = rank
        hidden = hidden_size
        for layer in range(num_layers):
            size = self.layer_input_size(layer)
            lstm = {
                f"weight_ih_l{layer}": (4 * hidden, size),
                f"weight_hh_l{layer}": (4 * hidden, hidden),
                f"bias_ih_l{layer}": (4 * hidden,),
                f"bias_hh_l{layer}": (4 * hidden,),
            }
            for name, shape in lstm.items():
                self.register_parameter(name, nn.Parameter(torch.empty(shape)))
                self.uniform_init(getattr(self, name))
            for j in range(1, rounds + 1):
                # odd rounds map h to x's size, even rounds x to h's
                out, inp = (size, hidden) if j % 2 else (hidden, size)
                self._add_round(f"mog_l{layer}_r{j}", out, inp)

    def _add_round(self, name: str, out: int, inp: int) -> None:
        if self.rank is None:
            self.register_parameter(name, nn.Parameter(torch.empty(out, inp)))
            self.uniform_init(getattr(self, name))
            return
        # two factors whose product has about the spread of a full-rank U(-1/sqrt(H), ..)
        a = nn.Parameter(torch.empty(self.rank, inp).uniform_(-1, 1) / math.sqrt(self.rank))
        self.register_parameter(name + "_a", a)
        self.register_parameter(name + "_b", nn.Parameter(torch.empty(out, self.rank)))
        self.uniform_init(getattr(self, name + "_b"))

    def round_weight(self, layer: int, j: int) -> torch.Tensor:
        """Q_j (odd j) or R_j (even j) of `layer`, as one (out, in) matrix."""
        name = f"mog_l{layer}_r{j}"
        if self.rank is None:
            return getattr(self, name)
        return getattr(self, name + "_b") @ getattr(self, name + "_a")

    def _scaled_weights(self, layer: int) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor]:
        """The round weights and W_ih, W_hh with the rounds' factors of 2 folded in.

        The loop computes x~ = sigmoid(.) * x~ without the 2, so after a x-rounds and b
        h-rounds the true values are x = 2^a x~ and h = 2^b h~. Every matrix that reads x~
        (R_j, W_ih) is scaled by 2^a (a at that point), every one that reads h~ (Q_j, W_hh)
        by 2^b: each product, and so every result, is unchanged, and the per-round
        multiply by 2 is gone. Scaling is a few ops per sequence, not per step."""
        x_rounds = h_rounds = 0
        weights = []
        for j in range(1, self.rounds + 1):
            w = self.round_weight(layer, j)
            if j % 2:
                weights.append(w * 2.0**h_rounds if h_rounds else w)
                x_rounds += 1
            else:
                weights.append(w * 2.0**x_rounds if x_rounds else w)
                h_rounds += 1
        w_ih = getattr(self, f"weight_ih_l{layer}")
        w_hh = getattr(self, f"weight_hh_l{layer}")
        if x_rounds:
            w_ih = w_ih * 2.0**x_rounds
        if h_rounds:
            w_hh = w_hh * 2.0**h_rounds
        return weights, w_ih, w_hh

    def run_layer(self, layer, x, h, c):
        mog, w_ih, w_hh = self._scaled_weights(layer)
        # (in, out) layouts for addmm; the biases summed once
        mog_t = [w.t() for w in mog]
        w_ih_t, w_hh_t = w_ih.t(), w_hh.t()
        bias = getattr(self, f"bias_ih_l{layer}") + getattr(self, f"bias_hh_l{layer}")
        outputs = []
        for x_t in x.unbind(1):
            x_m, h_m = x_t, h
            for j, w_t in enumerate(mog_t):
                if j % 2 == 0:  # round j + 1 is odd: h gates x
                    x_m = torch.sigmoid(h_m @ w_t) * x_m
                else:
                    h_m = torch.sigmoid(x_m @ w_t) * h_m
            pre = torch.addmm(torch.addmm(bias, x_m, w_ih_t), h_m, w_hh_t)
            c, o = lstm_update(pre, c)
            h = o * torch.tanh(c)
            outputs.append(h)
        return torch.stack(outputs, dim=1), h, c

    def extra_repr(self) -> str:
        rank = f", rank={self.rank}" if self.rank is not None else ""
        return f"{super().extra_repr()}, rounds={self.rounds}{rank}"
