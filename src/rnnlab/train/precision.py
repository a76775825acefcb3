"""Which floating-point type a training step computes in, per device.

Autocast runs the matrix products (and the fused LSTM/GRU kernels) in a 16-bit type while
the weights, the optimiser and the loss stay in float32. On CUDA that is bf16 or fp16. On a
CPU it pays only where the CPU multiplies bf16 natively (Intel AMX or AVX512-BF16: oneDNN's
LSTM runs about twice as fast there, benchmarks/lm_cpu); elsewhere bf16 is emulated and
slower than float32, and fp16 has no fast CPU path at all. `auto` picks bf16 where it is
native and float32 everywhere else, so one preset serves every machine.
"""

from __future__ import annotations

import contextlib

import torch

from rnnlab.errors import UserError

DTYPES: dict[str, torch.dtype | None] = {
    "fp32": None,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}
NAMES = ("auto", *DTYPES)  # what --precision and TrainConfig.precision accept


def check_name(precision: str) -> None:
    if precision not in NAMES:
        raise UserError(f"unknown precision {precision!r}; use {', '.join(NAMES)}")


def cpu_has_native_bf16() -> bool:
    """True when this CPU multiplies bf16 in hardware (AMX tiles or AVX512-BF16)."""
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")  # private, may move
    return any(getattr(torch.cpu, name, lambda: False)() for name in probes)


def resolve_precision(precision: str, device: torch.device) -> str:
    """`auto` made concrete for `device`; an explicit choice checked against it."""
    check_name(precision)
    if precision == "auto":
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        return "bf16" if device.type == "cpu" and cpu_has_native_bf16() else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise UserError("`precision` fp16 needs a CUDA device; on a CPU use bf16 or fp32")
    return precision


def autocast(precision: str, device: torch.device):
    """The autocast context for a resolved precision (a no-op context for fp32)."""
    dtype = DTYPES[precision]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)
