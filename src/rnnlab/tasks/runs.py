"""The path every task's run takes: into a checkpoint directory by training, and out of
one by loading. Each task supplies what differs as a `RunKind`: how a saved config.json
becomes its run, and how a run becomes the data the Trainer draws from."""

from __future__ import annotations

import gc
from dataclasses import asdict
from pathlib import Path
from typing import Any, Protocol

import torch

from rnnlab import checkpoint as ckpt
from rnnlab.device import resolve_device
from rnnlab.errors import UserError
from rnnlab.models.base import TaskModel
from rnnlab.models.registry import build_model
from rnnlab.train import Callbacks, Trainer, TrainTask
from rnnlab.train.distributed import process_group

# A task's run: a dataclass with .data, .model (a model config), .train (a TrainConfig)
# and .given (the config fields the person chose, from build_run).
Run = Any


class RunKind(Protocol):
    """What a task tells the path every run takes."""

    name: str  # the task, as config.json records it

    def run_from_config(self, config: dict[str, Any]) -> Run:
        """The run a saved config.json describes."""
        ...

    def prepare(self, run: Run) -> tuple[TrainTask, dict[str, Any]]:
        """Read the data, fill the sizes it decides into `run.model`, and return the task
        the Trainer draws batches and evaluations from, with the config.json to write."""
        ...


def train_run(
    kind: RunKind,
    run: Run,
    out: str | Path,
    resume: bool = False,
    callbacks: Callbacks | None = None,
    steps: int | None = None,
) -> tuple[TaskModel, dict[str, Any]]:
    """Train (or resume) `run` into `out`; returns the model and its last evaluation.

    On resume the run is rebuilt from the saved config.json; the steps, if given (in the
    run's options, or as `steps`), extend it, and every other setting the person gave
    (`run.given`) must agree with the saved run's, or it would be silently ignored.
    """
    out = Path(out)
    requested = run
    if steps is None and "steps" in run.given:
        steps = run.train.steps
    run = ckpt.start_or_resume(out, resume, run, steps, kind.name, kind.run_from_config)
    if resume:
        differ = settings_that_differ(run, requested, requested.given)
        if differ:
            raise UserError(
                f"{out} was trained with {differ[0]}; `resume` continues a run as it was "
                f"made (drop that option, or train a new run into another `out`)"
            )
        # what a resumed run may change, it changes: how long, where, how often it reports
        for name in sorted(requested.given & MAY_DIFFER_ON_RESUME - {"steps"}):
            setattr(run.train, name, getattr(requested.train, name))
    # Under torchrun every rank runs this; alone, `ranks` is one process (distributed.py).
    with process_group(resolve_device(run.train.device)) as ranks:
        with ranks.main_first():  # rank 0 encodes a new corpus once; the others read it
            train_task, config = kind.prepare(run)
        torch.manual_seed(run.train.seed)  # the model's initial weights follow the seed
        model = build_model(run.model)
        trainer = Trainer(model, train_task, run.train, out, config, callbacks, ranks)
        record = trainer.fit(resume=resume)
        # Under DDP the trainer holds the wrapper, whose reducer holds the process group
        # inside a reference cycle: left to the collector, it went at interpreter exit,
        # after the group's teardown, and a non-zero rank then aborted ("terminate called
        # without an active exception") in 4 of 60 two-rank launches; freed here, while
        # the group stands, in none of 94 (benchmarks/distributed/teardown_abort.py).
        del trainer
        if ranks.distributed:
            gc.collect()
    return model, record


# What a resumed run may change: how long it trains, where, and how often it reports.
MAY_DIFFER_ON_RESUME = frozenset(
    {"steps", "max_time_min", "device", "precision", "eval_every", "log_every"}
)


def settings_that_differ(saved: Run, requested: Run, chosen: frozenset[str]) -> list[str]:
    """The chosen settings whose value in `requested` is not the saved run's, each as
    "NAME SAVED, not REQUESTED"."""
    found = []
    if "architecture" in chosen and saved.model.architecture != requested.model.architecture:
        found.append(
            f"the {saved.model.architecture} model, not the {requested.model.architecture}"
        )
    for section in ("data", "model", "train"):
        was, asked = asdict(getattr(saved, section)), asdict(getattr(requested, section))
        for name in sorted(chosen & asked.keys() - MAY_DIFFER_ON_RESUME):
            if was.get(name) != asked[name]:
                found.append(f"{name} {was.get(name)!r}, not {asked[name]!r}")
    return found


def load_run(
    kind: RunKind,
    directory: str | Path,
    device: str = "auto",
    weights: str = ckpt.WEIGHTS,
) -> tuple[TaskModel, dict[str, Any], torch.device]:
    """The model saved in `directory` (its `weights` file), on `device`, in eval mode, with
    the config.json it was saved with. Loading runs no code from the directory."""
    directory = Path(directory)
    config = ckpt.read_config(directory)
    ckpt.require_task(config, directory, kind.name)
    model = build_model(kind.run_from_config(config).model)
    ckpt.load_weights(directory, model, name=weights)
    dev = resolve_device(device)
    model.to(dev).eval()
    return model, config, dev
