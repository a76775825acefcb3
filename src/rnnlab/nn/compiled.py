"""The fast path: one autograd node per layer and direction, with the backward pass
through time written out by hand.

Autograd over the scratch loop records ~10 nodes per step and, in the backward pass, one
small weight-gradient multiply per step. Here the whole sequence is a single
`torch.autograd.Function`:

- forward: one matrix multiply per step (state x W_hh^T, with W_hh packed once per
  sequence for oneDNN on a CPU) and the gate arithmetic, keeping the activated gates;
- backward: per step, only the gate derivatives and one `dgates @ W_hh` multiply for the
  previous state's gradient. The weight and bias gradients, sums over all steps, are one
  large GEMM each at the end — (G, T*B) x (T*B, H) — which runs near the machine's
  matmul peak, where T small ones would not. This is the schedule cuDNN and oneDNN use.

The loop itself needs no compiler, so it runs wherever PyTorch does. The per-step gate
arithmetic (gates.py) is torch.compile'd into one fused kernel per step where that works
and the state is big enough to pay for the compile; where compiling fails, that is said
once on stderr and the same arithmetic runs eagerly — same results, slower.

The derivatives (s = sigmoid; primes are the activated gates):

    LSTM  c' = f c + i g,  h' = o tanh(c')
          dc~ = dc' + dh' o (1 - tanh(c')^2)
          d(pre_i, pre_f, pre_g, pre_o) = (dc~ g i(1-i), dc~ c f(1-f), dc~ i (1-g^2),
                                           dh' tanh(c') o(1-o));  dc = dc~ f
    GRU   h' = n + z (h - n),  n = tanh(n_i + r n_h)
          dz = dh' (h - n);  dn = dh' (1 - z);  dpre_n = dn (1 - n^2)
          dr = dpre_n n_h;  dgi = (dr r(1-r), dz z(1-z), dpre_n);  dgh = (.., .., dpre_n r)
    Elman h' = tanh(pre) -> dpre = dh' (1 - h'^2);  relu -> dpre = dh' [h' > 0]
    all   dh = dh' z (GRU only) + dgh @ W_hh
"""

from __future__ import annotations

import torch

from rnnlab.nn import gates


class _Sequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mode, gi, h0, c0, w_hh, b_hh, mask):
        steps = gi.shape[0]
        hidden = h0.shape[-1]
        lstm, gru = mode == "LSTM", mode == "GRU"
        k = gates.kernels(h0, hidden)
        if b_hh is not None and not gru:
            gi = gi + b_hh  # outside the loop: the bias is the same every step
        batch = h0.shape[0]
        recurrent = gates.StepMatmul(w_hh, b_hh if gru else None, batch)  # h W_hh^T (+ b)
        h, c = h0, c0
        hs, cs, acts, extra = [h0], [c0], [], []  # what the backward pass needs, per step
        keep = any(ctx.needs_input_grad[1:6])  # False in inference: save nothing
        for t in range(steps):
            if gru:
                new_h, a, n_h = k["gru_forward"](gi[t], recurrent(h), h)
                if keep:
                    extra.append(n_h)
            elif lstm:
                new_h, new_c, a, tanh_c = k["lstm_forward"](gi[t], recurrent(h), c)
                if mask is not None:
                    new_c = torch.where(mask[t], new_c, c)
                c = new_c
                if keep:
                    extra.append(tanh_c)
                    cs.append(c)
            else:
                a = recurrent.add_to(gi[t], h)
                a = a.tanh_() if mode == "RNN_TANH" else a.relu_()
                new_h = a
            if mask is not None:
                new_h = torch.where(mask[t], new_h, h)
            h = new_h
            hs.append(h)
            if keep:
                acts.append(a)
        if not keep:
            out = torch.stack(hs[1:])
            out = out if mask is None else out * mask
            return out, h.clone(), (c.clone() if lstm else None)
        hs_all = torch.stack(hs)  # (T + 1, B, H): hs_all[t] is the state before step t
        out = hs_all[1:] if mask is None else hs_all[1:] * mask
        ctx.mode = mode
        ctx.has_c0 = c0 is not None
        ctx.has_bias = b_hh is not None
        ctx.save_for_backward(
            hs_all,
            torch.stack(cs) if lstm else None,
            torch.stack(acts),
            torch.stack(extra) if extra else None,
            w_hh,
            mask,
        )
        return out, h.clone(), (c.clone() if lstm else None)

    @staticmethod
    def backward(ctx, d_out, d_hn, d_cn):
        hs, cs, acts, extra, w_hh, mask = ctx.saved_tensors
        mode = ctx.mode
        lstm, gru = mode == "LSTM", mode == "GRU"
        steps, batch, hidden = acts.shape[0], hs.shape[1], hs.shape[2]
        k = gates.kernels(hs[0], hidden)
        if d_out is None:
            d_out = hs.new_zeros(steps, batch, hidden)
        elif mask is not None:
            d_out = d_out * mask  # padded outputs were constant zeros
        dh = d_hn if d_hn is not None else hs.new_zeros(batch, hidden)
        dc = None
        if lstm:
            dc = d_cn if d_cn is not None else hs.new_zeros(batch, hidden)
        d_gis, d_ghs = [], []
        back = gates.StepMatmul(w_hh.t(), None, batch)  # d_gh -> d_gh W_hh
        for t in range(steps - 1, -1, -1):
            skip = None  # GRU: the part of d h_prev that does not go through W_hh
            if lstm:
                d_gi, new_dc, dh = k["lstm_backward"](dh, d_out[t], dc, acts[t], extra[t], cs[t])
                d_gh = d_gi
            elif gru:
                d_gi, d_gh, skip, dh = k["gru_backward"](dh, d_out[t], acts[t], extra[t], hs[t])
            else:
                dh = dh + d_out[t]
                h_new = acts[t]
                if mode == "RNN_TANH":
                    d_gi = dh * (1 - h_new * h_new)
                else:
                    d_gi = dh * (h_new > 0).to(dh.dtype)
                d_gh = d_gi
            if mask is not None:
                m = mask[t]
                d_gi, d_gh = d_gi * m, (d_gh * m if gru else None)
                d_gh = d_gi if d_gh is None else d_gh
            # d h_prev = d_gh @ W_hh (+ GRU's direct path), one op
            dh_prev = back(d_gh) if skip is None else back(d_gh).add_(skip)
            if mask is not None:
                # a padded step was the identity on the state: its gradient passes through
                dh_prev = torch.where(m, dh_prev, dh)
                if lstm:
                    new_dc = torch.where(m, new_dc, dc)
            dh = dh_prev
            if lstm:
                dc = new_dc
            d_gis.append(d_gi)
            d_ghs.append(d_gh)
        d_gi_all = torch.stack(d_gis[::-1])
        d_gh_all = torch.stack(d_ghs[::-1]) if gru else d_gi_all
        flat_gh = d_gh_all.reshape(steps * batch, -1)
        d_w = flat_gh.t() @ hs[:-1].reshape(steps * batch, hidden)  # one GEMM for all steps
        d_b = flat_gh.sum(0) if ctx.has_bias else None
        return None, d_gi_all, dh, (dc if ctx.has_c0 else None), d_w, d_b, None


def compiled_direction(
    mode: str,
    gi: torch.Tensor,
    h0: torch.Tensor,
    c0: torch.Tensor | None,
    w_hh: torch.Tensor,
    b_hh: torch.Tensor | None,
    mask: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """A DirectionRunner (see recurrent.py): same results as the scratch loop."""
    device_type = gi.device.type
    if torch.is_autocast_enabled(device_type):
        # Autocast does not reach inside a Function; do its job here: every operand in the
        # autocast dtype (the casts stay differentiable), as cuDNN's RNN does under autocast.
        dtype = torch.get_autocast_dtype(device_type)
        gi, h0, w_hh = gi.to(dtype), h0.to(dtype), w_hh.to(dtype)
        c0 = None if c0 is None else c0.to(dtype)
        b_hh = None if b_hh is None else b_hh.to(dtype)
        with torch.autocast(device_type, enabled=False):
            return _Sequence.apply(mode, gi, h0, c0, w_hh, b_hh, mask)
    return _Sequence.apply(mode, gi, h0, c0, w_hh, b_hh, mask)
