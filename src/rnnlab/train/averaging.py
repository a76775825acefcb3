"""An exponential moving average of the weights, evaluated in place of the last ones.

The optimiser's weights jitter around a minimum with the size of the learning rate; their
running average sits nearer its centre (Polyak averaging; the "EMA" of many language
models). The Trainer keeps one when `TrainConfig.ema` is set: it updates after every step,
it is what evaluation scores and what best.safetensors holds, and it is saved beside the
training weights as average.safetensors, so `lm eval --last` and a resume both find it.
The training weights themselves stay in model.safetensors: a resume continues from them.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from rnnlab import checkpoint as ckpt


def decay_at(decay: float, averaged: int) -> float:
    """The decay after `averaged` updates: short of `decay` early on, so that the average
    of a short run is not still mostly its random initialisation ((1 + n) / (10 + n), the
    warm-up of TensorFlow's ExponentialMovingAverage)."""
    return min(decay, (1 + averaged) / (10 + averaged))


class WeightAverage:
    def __init__(self, model: nn.Module, decay: float) -> None:
        # A copy of the model (tied weights stay tied: deepcopy keeps shared tensors shared)
        # whose parameters follow the model's: avg <- d * avg + (1 - d) * new. The count of
        # updates is kept here in Python: reading AveragedModel's count tensor would make
        # every training step wait for the GPU.
        self.updates = 0

        def blend(averaged: list, current: list, _count: torch.Tensor) -> None:
            torch._foreach_lerp_(averaged, current, 1 - decay_at(decay, self.updates))

        self.averaged = AveragedModel(model, multi_avg_fn=blend)
        self.module = self.averaged.module

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        self.averaged.update_parameters(model)  # the first update copies, later ones blend
        self.updates += 1

    def save(self, directory: Path, step: int) -> None:
        ckpt.save_weights(directory, self.module, step, name=ckpt.AVERAGE_WEIGHTS)

    def restore(self, directory: Path, step: int) -> None:
        """The average a checkpoint saved, or (a run that kept none) a fresh start."""
        if (directory / ckpt.AVERAGE_WEIGHTS).exists():
            ckpt.load_weights(directory, self.module, name=ckpt.AVERAGE_WEIGHTS)
            self.updates = max(step, 1)
            self.averaged.n_averaged.fill_(self.updates)  # not the first update: no copy
