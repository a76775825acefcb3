"""Dropout whose mask is cheap to draw on a CPU.

torch's CPU dropout draws each keep/drop decision with `bernoulli_`, about 7 ns an element
on this project's 2-core machine: 2.9 ms for one 32 x 50 x 256 activation, three of them a
step in the 2 x 256 character LM (before, between and after the LSTM layers), 17% of a
bf16 training step. Random 16-bit integers come four times faster; a feature is kept when
its integer falls below round((1 - p) * 2**15), so the drop rate is p to within 2**-16,
and the kept values are scaled by the exact inverse of the kept fraction (the expectation
is unchanged). On other devices F.dropout is already a fused kernel and is used as it is.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LEVELS = 2**15  # random_() on int16 draws uniformly from [0, 2**15)


def dropout(x: torch.Tensor, p: float, training: bool = True) -> torch.Tensor:
    """F.dropout(x, p, training), with the CPU mask drawn from random int16s."""
    if not training or p == 0.0:
        return x
    if x.device.type != "cpu" or not 0.0 < p < 1.0:
        return F.dropout(x, p, training=True)  # and its error for a p outside [0, 1]
    kept = round((1.0 - p) * LEVELS)
    if kept >= LEVELS:  # p below 2**-16 rounds to keeping everything (and 2**15 is no int16)
        return x
    if kept == 0:
        return x * 0.0
    draws = torch.empty(x.shape, dtype=torch.int16, device=x.device).random_()
    keep = (draws < kept).to(x.dtype)
    return x * (keep * (LEVELS / kept))


class Dropout(torch.nn.Dropout):
    """torch.nn.Dropout drawing its CPU masks as `dropout` does (same state_dict: none)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return dropout(x, self.p, self.training)
