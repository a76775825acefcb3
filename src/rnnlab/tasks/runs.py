"""The path every task's run takes: into a checkpoint directory by training, and out of
one by loading. Tasks supply what differs (their data and their config.json)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from rnnlab import checkpoint as ckpt
from rnnlab.device import resolve_device
from rnnlab.models.base import TaskModel
from rnnlab.models.registry import build_model
from rnnlab.train import Callbacks, Trainer, TrainTask
from rnnlab.train.distributed import process_group

# A task's run: a dataclass with .model (a model config) and .train (a TrainConfig).
Run = Any


def train_run(
    run: Run,
    out: str | Path,
    *,
    task: str,
    from_config: Callable[[dict[str, Any]], Run],
    prepare: Callable[[Run], tuple[TrainTask, dict[str, Any]]],
    resume: bool = False,
    callbacks: Callbacks | None = None,
    steps: int | None = None,
) -> tuple[TaskModel, dict[str, Any]]:
    """Train (or resume) `run` into `out`; returns the model and its last evaluation.

    On resume the run is rebuilt from the saved config.json (options describing the model
    or data are not used); `steps` may extend it. `prepare(run)` reads the data, fills the
    sizes it decides into `run.model`, and returns the task the Trainer draws batches and
    evaluations from, with the config.json to write.
    """
    out = Path(out)
    run = ckpt.start_or_resume(out, resume, run, steps, task, from_config)
    # Under torchrun every rank runs this; alone, `ranks` is one process (distributed.py).
    with process_group(resolve_device(run.train.device)) as ranks:
        with ranks.main_first():  # rank 0 encodes a new corpus once; the others read it
            train_task, config = prepare(run)
        torch.manual_seed(run.train.seed)  # the model's initial weights follow the seed
        model = build_model(run.model)
        trainer = Trainer(model, train_task, run.train, out, config, callbacks, ranks)
        return model, trainer.fit(resume=resume)


def load_run(
    directory: str | Path,
    *,
    task: str,
    from_config: Callable[[dict[str, Any]], Run],
    device: str = "auto",
    weights: str = ckpt.WEIGHTS,
) -> tuple[TaskModel, dict[str, Any], torch.device]:
    """The model saved in `directory` (its `weights` file), on `device`, in eval mode, with
    the config.json it was saved with. Loading runs no code from the directory."""
    directory = Path(directory)
    config = ckpt.read_config(directory)
    ckpt.require_task(config, directory, task)
    model = build_model(from_config(config).model)
    ckpt.load_weights(directory, model, name=weights)
    dev = resolve_device(device)
    model.to(dev).eval()
    return model, config, dev
