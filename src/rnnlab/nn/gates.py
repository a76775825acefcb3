"""The gate arithmetic of one time step, forward and backward, as plain functions.

compiled.py's loop calls these once per step. Eager, each is ~6-15 small element-wise
ops, and on a CPU every one of them is its own parallel region; torch.compile fuses each
function into one loop (one C++ kernel on a CPU, one Triton kernel on a GPU). `kernels()`
hands out the fused versions where compiling works and the tensors are big enough to pay
for it, and these eager ones otherwise: both compute the same thing.

Shapes: B rows (batch), H hidden units; `gi` is a step's input term x_t W_ih^T + b_ih and
`gh` its recurrent term h W_hh^T (+ b_hh), all gates in torch.nn's order. Derivations are in
compiled.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch


def lstm_forward(gi: torch.Tensor, gh: torch.Tensor, c: torch.Tensor):
    """pre = gi + gh (input and recurrent terms) -> h', c', activated gates (B, 4H), tanh(c')."""
    i, f, g, o = (gi + gh).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_new = f * c + i * g
    tanh_c = torch.tanh(c_new)
    return o * tanh_c, c_new, torch.cat([i, f, g, o], dim=-1), tanh_c


def lstm_backward(dh_next, d_out, dc, acts, tanh_c, c_prev):
    """dh' = dh_next (from step t+1) + d_out (from the output at t) -> d pre (B, 4H),
    d c_prev, dh'."""
    dh = dh_next + d_out
    i, f, g, o = acts.chunk(4, dim=-1)
    dc_t = dc + dh * o * (1 - tanh_c * tanh_c)
    d_pre = torch.cat(
        [
            dc_t * g * i * (1 - i),
            dc_t * c_prev * f * (1 - f),
            dc_t * i * (1 - g * g),
            dh * tanh_c * o * (1 - o),
        ],
        dim=-1,
    )
    return d_pre, dc_t * f, dh


def gru_forward(gi: torch.Tensor, gh: torch.Tensor, h: torch.Tensor):
    """-> h', activated gates r, z, n (B, 3H), n_h (the recurrent part r gates)."""
    r_i, z_i, n_i = gi.chunk(3, dim=-1)
    r_h, z_h, n_h = gh.chunk(3, dim=-1)
    r = torch.sigmoid(r_i + r_h)
    z = torch.sigmoid(z_i + z_h)
    n = torch.tanh(n_i + r * n_h)
    return n + z * (h - n), torch.cat([r, z, n], dim=-1), n_h


def gru_backward(dh_next, d_out, acts, n_h, h_prev):
    """dh' = dh_next + d_out -> d gi (B, 3H), d gh (B, 3H), the part of d h_prev that
    skips W_hh (dh' z), dh'."""
    dh = dh_next + d_out
    r, z, n = acts.chunk(3, dim=-1)
    d_pre_n = dh * (1 - z) * (1 - n * n)
    d_r = d_pre_n * n_h * r * (1 - r)
    d_z = dh * (h_prev - n) * z * (1 - z)
    d_gh = torch.cat([d_r, d_z, d_pre_n * r], -1)
    return torch.cat([d_r, d_z, d_pre_n], -1), d_gh, dh * z, dh


EAGER = {
    "lstm_forward": lstm_forward,
    "lstm_backward": lstm_backward,
    "gru_forward": gru_forward,
    "gru_backward": gru_backward,
}

# Below this many state elements (B x H) per step a compiled kernel's call overhead (its
# guards, ~tens of microseconds) outweighs what fusing saves: measured on the project's CPU,
# 64 x 128 ran faster eager and 64 x 512 fused. Small models and the tests stay eager.
MIN_FUSED_ELEMENTS = 32768

_fused: dict[str, Callable] | None = None
_fused_failed = False


def _warn_once(message: str) -> None:
    sys.stderr.write(f"rnnlab: {message}\n")


def fused_available() -> bool:
    """Compile one tiny gate function once per process; False (said once on stderr) if
    this platform cannot: no C++ compiler, no Triton, an unsupported torch."""
    global _fused, _fused_failed
    if _fused is not None or _fused_failed:
        return _fused is not None
    try:
        # dynamic=None: a second shape (an eval batch) compiles a shape-generic kernel once,
        # rather than one more kernel per batch size
        fused = {k: torch.compile(fn) for k, fn in EAGER.items()}
        probe = torch.zeros(2, 8)
        fused["lstm_forward"](probe, probe, probe[:, :2])
        _fused = fused
    except Exception as e:  # any compiler failure means: run the eager gates
        _fused_failed = True
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        _warn_once(
            f"impl='compiled' runs without fused gate kernels ({type(e).__name__}: "
            f"{reason[:120]}); results are the same, only slower"
        )
    return _fused is not None


def kernels(example: torch.Tensor, hidden: int) -> dict[str, Callable]:
    """The gate functions to use for states like `example` (B, H)."""
    if example.shape[0] * hidden >= MIN_FUSED_ELEMENTS and fused_available():
        return _fused  # type: ignore[return-value]
    return EAGER


# -- the per-step matrix multiply ----------------------------------------------------

_packed_ok: bool | None = None


def _packed_available() -> bool:
    """oneDNN's pre-packed linear (what inductor uses on CPUs): ~1.5x MKL's sgemm for a
    (64, 512) x (512, 2048) step on the project's CPU, because the weight is laid out for
    the kernel once per sequence instead of once per call. A private op: probe it once."""
    global _packed_ok
    if _packed_ok is None:
        try:
            x, w = torch.randn(3, 4), torch.randn(5, 4)
            packed = torch.ops.mkldnn._reorder_linear_weight(w, 3)
            got = torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")
            _packed_ok = bool(torch.allclose(got, x @ w.t(), atol=1e-5))
        except Exception:  # not built with oneDNN, or the op changed: use plain GEMMs
            _packed_ok = False
    return _packed_ok


# Packing pays from weights of this many elements up (a 512-wide LSTM's W_hh is 1M); for a
# 128-wide one the packed call's overhead cost more than it saved, measured on this CPU.
MIN_PACKED_ELEMENTS = 512 * 512


class StepMatmul:
    """x -> x @ W^T (+ bias) for one weight used at every step of a sequence."""

    def __init__(self, weight: torch.Tensor, bias: torch.Tensor | None, batch: int) -> None:
        self.weight, self.bias, self.packed = weight, bias, None
        cpu_float = weight.device.type == "cpu" and weight.dtype == torch.float32
        big = weight.numel() >= MIN_PACKED_ELEMENTS
        if big and cpu_float and torch.backends.mkldnn.is_available() and _packed_available():
            self.packed = torch.ops.mkldnn._reorder_linear_weight(weight.contiguous(), batch)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.packed is not None:
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")
        return torch.nn.functional.linear(x, self.weight, self.bias)

    def add_to(self, base: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """base + x @ W^T (no bias): one addmm when the weight is not packed."""
        if self.packed is not None:
            return base + self(x)
        return torch.addmm(base, x, self.weight.t())
