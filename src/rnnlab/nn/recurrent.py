"""The layer stack around the cells: layers, directions, variable lengths, initial state.

Everything here runs time-major, (time, batch, features), so that one step's rows are
contiguous. For each layer and direction:

    gi = x @ W_ih^T + b_ih            one matrix multiply for every time step at once
    for t: state = cell(gi[t], state)  one matrix multiply per step (in the cell)

Variable lengths are a mask: past a row's length its state stops changing (so the final
state is the state at its last real character) and its output is zero, as
pad_packed_sequence gives. The reverse direction reads each row backwards *within its
length*: position t of row b comes from position L_b - 1 - t, so a short row's first
reverse step sees its last real character, never padding:

    row (L=3, T=5):  a b c _ _   ->  reversed within length:  c b a _ _

How the per-step loop itself runs is a `DirectionRunner`: the readable cell loop below
("scratch"), or the hand-derived backward pass in compiled.py ("compiled").
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnlab.nn import cells
from rnnlab.nn.dropout import dropout as cheap_dropout  # `dropout` is a parameter here

# (mode, gi (T,B,G), h0, c0 or None, w_hh, b_hh or None, mask (T,B,1) or None)
#   -> outputs (T,B,H), h_T, c_T or None
DirectionRunner = Callable[
    [
        str,
        torch.Tensor,
        torch.Tensor,
        "torch.Tensor | None",
        torch.Tensor,
        "torch.Tensor | None",
        "torch.Tensor | None",
    ],
    tuple[torch.Tensor, torch.Tensor, "torch.Tensor | None"],
]


def scratch_direction(
    mode: str,
    gi: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor | None,
    w_hh: torch.Tensor,
    b_hh: torch.Tensor | None,
    mask: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The readable loop: one cell call per time step, autograd does the rest."""
    h, c = h0, c0
    outputs = []
    for t in range(gi.shape[0]):
        if mode == "LSTM":
            new_h, new_c = cells.lstm_cell(gi[t], (h, c), w_hh, b_hh)
        elif mode == "GRU":
            new_h, new_c = cells.gru_cell(gi[t], h, w_hh, b_hh), None
        else:
            nonlinearity = "tanh" if mode == "RNN_TANH" else "relu"
            new_h, new_c = cells.elman_cell(gi[t], h, w_hh, b_hh, nonlinearity), None
        if mask is not None:  # rows already past their length keep their state
            new_h = torch.where(mask[t], new_h, h)
            if new_c is not None:
                new_c = torch.where(mask[t], new_c, c)
        h, c = new_h, new_c
        outputs.append(h)
    out = torch.stack(outputs)
    if mask is not None:
        out = out * mask
    return out, h, c


def reverse_index(lengths: torch.Tensor | None, steps: int, device: torch.device) -> torch.Tensor:
    """(T, B) time index that reverses each row within its length (an involution)."""
    t = torch.arange(steps, device=device).unsqueeze(1)
    if lengths is None:
        return (steps - 1 - t).expand(steps, 1)
    lengths = lengths.to(device).unsqueeze(0)
    return torch.where(t < lengths, lengths - 1 - t, t)


def reverse_time(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    if index.shape[1] == 1:  # same length everywhere: a plain flip
        return x.flip(0)
    return x.gather(0, index.unsqueeze(-1).expand_as(x))


Weights = tuple[torch.Tensor, torch.Tensor, "torch.Tensor | None", "torch.Tensor | None"]


def module_weights(module: torch.nn.RNNBase) -> Callable[[int, int], Weights]:
    """(layer, direction) -> (w_ih, w_hh, b_ih, b_hh) of a torch.nn-style module, by the
    names torch.nn gives them (weight_ih_l0, weight_hh_l1_reverse, ...)."""

    def weights(layer: int, direction: int) -> Weights:
        suffix = f"_l{layer}" + ("_reverse" if direction else "")
        w_ih = getattr(module, "weight_ih" + suffix)
        w_hh = getattr(module, "weight_hh" + suffix)
        if not module.bias:
            return w_ih, w_hh, None, None
        return w_ih, w_hh, getattr(module, "bias_ih" + suffix), getattr(module, "bias_hh" + suffix)

    return weights


def run_stack(
    mode: str,
    weights: Callable[[int, int], Weights],
    num_layers: int,
    directions: int,
    dropout: float,
    x: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor | None,
    lengths: torch.Tensor | None,
    runner: DirectionRunner,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """x (T, B, input), h0/c0 (layers * directions, B, H) -> outputs, h_n, c_n.

    `dropout` (already zero outside training) applies between layers, as in torch.nn."""
    steps = x.shape[0]
    mask = None
    if lengths is not None:
        positions = torch.arange(steps, device=x.device).unsqueeze(1)
        mask = (positions < lengths.to(x.device).unsqueeze(0)).unsqueeze(-1)
    rev = reverse_index(lengths, steps, x.device) if directions == 2 else None
    finals_h, finals_c = [], []
    layer_input = x
    for layer in range(num_layers):
        outs = []
        for d in range(directions):
            w_ih, w_hh, b_ih, b_hh = weights(layer, d)
            gi = F.linear(layer_input, w_ih, b_ih)  # every step's input term, one GEMM
            if d:
                gi = reverse_time(gi, rev)
            k = layer * directions + d
            out, h, c = runner(mode, gi, h0[k], None if c0 is None else c0[k], w_hh, b_hh, mask)
            outs.append(reverse_time(out, rev) if d else out)
            finals_h.append(h)
            finals_c.append(c)
        layer_input = outs[0] if directions == 1 else torch.cat(outs, dim=-1)
        if dropout and layer < num_layers - 1:
            layer_input = cheap_dropout(layer_input, dropout)
    c_n = torch.stack(finals_c) if c0 is not None else None
    return layer_input, torch.stack(finals_h), c_n


def forward(
    module: torch.nn.RNNBase,
    input: torch.Tensor | PackedSequence,
    hx: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None,
    runner: DirectionRunner,
):
    """torch.nn.RNN/LSTM/GRU.forward's contract (shapes, packing, unbatched input, the
    initial state) over `runner`; returns what the torch.nn module would."""
    lstm = module.mode == "LSTM"
    packed = isinstance(input, PackedSequence)
    unbatched = False
    lengths = None
    if packed:
        # pad_packed_sequence restores the caller's batch order; hx is in that order too
        x, lengths = pad_packed_sequence(input)
    else:
        unbatched = input.dim() == 2
        if input.dim() not in (2, 3):
            raise ValueError(f"expected 2D or 3D input, got {input.dim()}D")
        x = input.unsqueeze(1) if unbatched else input
        if module.batch_first and not unbatched:
            x = x.transpose(0, 1)
    if x.shape[-1] != module.input_size:
        raise RuntimeError(
            f"input.size(-1) must be equal to input_size. Expected {module.input_size}, "
            f"got {x.shape[-1]}"
        )
    directions = 2 if module.bidirectional else 1
    state_shape = (module.num_layers * directions, x.shape[1], module.hidden_size)
    if hx is None:
        h0 = x.new_zeros(state_shape)
        c0 = x.new_zeros(state_shape) if lstm else None
    else:
        h0, c0 = hx if lstm else (hx, None)
        if unbatched:
            h0 = h0.unsqueeze(1)
            c0 = None if c0 is None else c0.unsqueeze(1)
        for s in (h0, c0):
            if s is not None and tuple(s.shape) != state_shape:
                raise RuntimeError(f"Expected hidden size {state_shape}, got {tuple(s.shape)}")
    out, h_n, c_n = run_stack(
        module.mode,
        module_weights(module),
        module.num_layers,
        directions,
        module.dropout if module.training else 0.0,
        x,
        h0,
        c0,
        lengths,
        runner,
    )
    if packed:
        # re-pack in the input's own order, so the output's layout is exactly torch.nn's
        order = input.sorted_indices
        if order is not None:
            out, lengths = out.index_select(1, order), lengths[order]
        data = pack_padded_sequence(out, lengths).data
        output = PackedSequence(data, input.batch_sizes, order, input.unsorted_indices)
    elif unbatched:
        output, h_n = out.squeeze(1), h_n.squeeze(1)
        c_n = None if c_n is None else c_n.squeeze(1)
    else:
        output = out.transpose(0, 1) if module.batch_first else out
    return output, ((h_n, c_n) if lstm else h_n)
