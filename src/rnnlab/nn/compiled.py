"""The fast path: one autograd node per layer and direction, with the backward pass
through time written out by hand.

Autograd over the scratch loop records ~10 nodes per step and, in the backward pass, one
small weight-gradient multiply per step. Here the whole sequence is a single
`torch.autograd.Function`:

- forward: one `addmm` per step (state x W_hh^T, added onto the precomputed input term)
  and in-place gate arithmetic into preallocated buffers, keeping the activated gates;
- backward: per step, only the gate derivatives and one `dgates @ W_hh` multiply for the
  previous state's gradient. The weight and bias gradients, sums over all steps, are one
  large GEMM each at the end — (G, T*B) x (T*B, H) — which runs near the machine's
  matmul peak, where T small ones would not. This is the schedule cuDNN and oneDNN use.

No compiler is needed, so it runs wherever PyTorch does. On top of it, `gate_kernels`
may swap the gate arithmetic for torch.compile'd (fused) versions; if compiling fails on
this platform that is said once on stderr and the eager gate arithmetic is used.

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


class _Sequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, mode, gi, h0, c0, w_hh, b_hh, mask):
        steps, batch, _ = gi.shape
        hidden = h0.shape[-1]
        lstm, gru = mode == "LSTM", mode == "GRU"
        if b_hh is not None and not gru:
            gi = gi + b_hh  # outside the loop: the bias is the same every step
        hs = gi.new_empty(steps + 1, batch, hidden)  # hs[t] = state before step t
        hs[0] = h0
        cs = None
        if lstm:
            cs = gi.new_empty(steps + 1, batch, hidden)
            cs[0] = c0
        # what the backward pass needs, per step
        acts = gi.new_empty(gi.shape)  # activated gates (LSTM, GRU r z n) or h' (Elman)
        extra = gi.new_empty(steps, batch, hidden) if (lstm or gru) else None
        w_t = w_hh.t()
        for t in range(steps):
            h = hs[t]
            if gru:
                gh = torch.addmm(b_hh, h, w_t) if b_hh is not None else h @ w_t
                a = acts[t]
                r_i, z_i, n_i = gi[t].chunk(3, dim=-1)
                r_h, z_h, n_h = gh.chunk(3, dim=-1)
                r, z, n = a.chunk(3, dim=-1)
                torch.add(r_i, r_h, out=r).sigmoid_()
                torch.add(z_i, z_h, out=z).sigmoid_()
                extra[t] = n_h
                torch.addcmul(n_i, r, n_h, out=n).tanh_()
                new_h = n + z * (h - n)
            elif lstm:
                a = torch.addmm(gi[t], h, w_t, out=acts[t])
                i, f, g, o = a.chunk(4, dim=-1)
                a[:, : 2 * hidden].sigmoid_()  # i, f
                g.tanh_()
                o.sigmoid_()
                new_c = torch.addcmul(f * cs[t], i, g)
                tanh_c = torch.tanh(new_c, out=extra[t])
                new_h = o * tanh_c
                if mask is not None:
                    new_c = torch.where(mask[t], new_c, cs[t])
                cs[t + 1] = new_c
            else:
                a = torch.addmm(gi[t], h, w_t, out=acts[t])
                a.tanh_() if mode == "RNN_TANH" else a.relu_()
                new_h = a
            if mask is not None:
                new_h = torch.where(mask[t], new_h, h)
            hs[t + 1] = new_h
        out = hs[1:].clone() if mask is None else hs[1:] * mask
        ctx.mode = mode
        ctx.has_c0 = c0 is not None
        ctx.has_bias = b_hh is not None
        ctx.save_for_backward(hs, cs, acts, extra, w_hh, mask)
        c_n = cs[steps].clone() if lstm else None
        return out, hs[steps].clone(), c_n

    @staticmethod
    def backward(ctx, d_out, d_hn, d_cn):
        hs, cs, acts, extra, w_hh, mask = ctx.saved_tensors
        mode = ctx.mode
        lstm, gru = mode == "LSTM", mode == "GRU"
        steps, batch, hidden = d_out.shape[0], hs.shape[1], hs.shape[2]
        d_gi = acts.new_empty(acts.shape)
        d_gh = acts.new_empty(acts.shape) if gru else d_gi  # the same except GRU's n gate
        if mask is not None:
            d_out = d_out * mask  # padded outputs were constant zeros
        dh = d_hn.clone() if d_hn is not None else hs.new_zeros(batch, hidden)
        dc = None
        if lstm:
            dc = d_cn.clone() if d_cn is not None else hs.new_zeros(batch, hidden)
        for t in range(steps - 1, -1, -1):
            dh = dh + d_out[t]
            if lstm:
                i, f, g, o = acts[t].chunk(4, dim=-1)
                tanh_c = extra[t]
                dc_t = torch.addcmul(dc, dh * o, 1 - tanh_c * tanh_c)
                di, df, dg, do = d_gi[t].chunk(4, dim=-1)
                torch.mul(dc_t * g, i * (1 - i), out=di)
                torch.mul(dc_t * cs[t], f * (1 - f), out=df)
                torch.mul(dc_t * i, 1 - g * g, out=dg)
                torch.mul(dh * tanh_c, o * (1 - o), out=do)
                new_dc = dc_t * f
            elif gru:
                r, z, n = acts[t].chunk(3, dim=-1)
                n_h = extra[t]
                dpre_n = dh * (1 - z) * (1 - n * n)
                dr = dpre_n * n_h
                gi_r, gi_z, gi_n = d_gi[t].chunk(3, dim=-1)
                torch.mul(dr, r * (1 - r), out=gi_r)
                torch.mul(dh * (hs[t] - n), z * (1 - z), out=gi_z)
                gi_n.copy_(dpre_n)
                d_gh[t, :, : 2 * hidden] = d_gi[t, :, : 2 * hidden]
                torch.mul(dpre_n, r, out=d_gh[t, :, 2 * hidden :])
            else:
                h_new = acts[t]
                if mode == "RNN_TANH":
                    torch.mul(dh, 1 - h_new * h_new, out=d_gi[t])
                else:
                    torch.mul(dh, (h_new > 0).to(dh.dtype), out=d_gi[t])
            dh_prev = d_gh[t] @ w_hh
            if gru:
                dh_prev = torch.addcmul(dh_prev, dh, z)
            if mask is not None:
                m = mask[t]
                # a padded step was the identity on the state: its gradient passes through
                dh_prev = torch.where(m, dh_prev, dh)
                d_gi[t].mul_(m)
                if gru:
                    d_gh[t].mul_(m)
                if lstm:
                    new_dc = torch.where(m, new_dc, dc)
            dh = dh_prev
            if lstm:
                dc = new_dc
        flat_gh = d_gh.reshape(steps * batch, -1)
        d_w = flat_gh.t() @ hs[:-1].reshape(steps * batch, hidden)  # one GEMM for all steps
        d_b = flat_gh.sum(0) if ctx.has_bias else None
        return None, d_gi, dh, (dc if ctx.has_c0 else None), d_w, d_b, None


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
