"""One training loop for every task."""

from rnnlab.train.trainer import Callbacks, Interrupted, TrainConfig, Trainer, TrainTask

__all__ = ["Callbacks", "Interrupted", "TrainConfig", "TrainTask", "Trainer"]
