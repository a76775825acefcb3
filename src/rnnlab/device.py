"""Pick the torch device from a user's `--device auto|cpu|cuda`."""

from __future__ import annotations

import torch

from rnnlab.errors import UserError


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UserError("--device cuda asked for, but no CUDA GPU is available here")
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    raise UserError(f"unknown device {name!r}; use auto, cpu or cuda")
