"""The optimisers a run can name, built fused where torch has a fused kernel."""

from __future__ import annotations

import torch
from torch import nn

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}
# One kernel for every parameter instead of a Python loop over them (CPU and CUDA). On the
# 2-core CPU a step of AdamW over the 2 x 256 LM's parameters took 4.3 ms per tensor and
# 0.7 ms fused; the update is the same one (tests/test_optim.py).
FUSED = (torch.optim.Adam, torch.optim.AdamW)
FUSED_DEVICES = ("cpu", "cuda")


def make_optimizer(
    name: str, model: nn.Module, lr: float, weight_decay: float, device: torch.device
) -> torch.optim.Optimizer:
    opt_cls = OPTIMIZERS[name]
    fused = opt_cls in FUSED and device.type in FUSED_DEVICES
    extra = {"fused": True} if fused else {}
    return opt_cls(model.parameters(), lr=lr, weight_decay=weight_decay, **extra)
