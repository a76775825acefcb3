"""The three recurrent cells, written out in PyTorch ops, one time step each.

Every cell takes `gi`, the input's contribution to the gates for this step
(x_t @ W_ih^T + b_ih, computed for all steps at once before the loop, since it does not
depend on the state), and the previous state; it does the one matrix multiply that does
depend on the state — all gates of the step at once, h @ W_hh^T + b_hh — and the gate
arithmetic. Gate order and formulas are torch.nn's, so weights load from torch.nn modules
unchanged:

    Elman: h' = tanh(gi + W_hh h + b_hh)                 (or relu)
    LSTM:  i, f, g, o = chunks of gi + W_hh h + b_hh      (4H: input, forget, cell, output)
           c' = sigmoid(f) * c + sigmoid(i) * tanh(g);   h' = sigmoid(o) * tanh(c')
    GRU:   r, z, n_i = chunks of gi;  r_h, z_h, n_h = chunks of W_hh h + b_hh   (3H)
           r = sigmoid(r_i + r_h);  z = sigmoid(z_i + z_h)
           n = tanh(n_i + r * n_h)                       (r gates the *projected* state)
           h' = (1 - z) * n + z * h
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]


def hidden_gates(h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor | None) -> torch.Tensor:
    """h @ W_hh^T + b_hh: every gate's recurrent term in one matrix multiply."""
    return F.linear(h, w_hh, b_hh)


def elman_cell(
    gi: torch.Tensor,
    h: torch.Tensor,
    w_hh: torch.Tensor,
    b_hh: torch.Tensor | None,
    nonlinearity: str = "tanh",
) -> torch.Tensor:
    pre = gi + hidden_gates(h, w_hh, b_hh)
    return torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)


def lstm_cell(
    gi: torch.Tensor,
    state: tuple[torch.Tensor, torch.Tensor],
    w_hh: torch.Tensor,
    b_hh: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    h, c = state
    i, f, g, o = (gi + hidden_gates(h, w_hh, b_hh)).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return h, c


def gru_cell(
    gi: torch.Tensor, h: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor | None
) -> torch.Tensor:
    r_i, z_i, n_i = gi.chunk(3, dim=-1)
    r_h, z_h, n_h = hidden_gates(h, w_hh, b_hh).chunk(3, dim=-1)
    r = torch.sigmoid(r_i + r_h)
    z = torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return n + z * (h - n)  # = (1 - z) * n + z * h, one op fewer
