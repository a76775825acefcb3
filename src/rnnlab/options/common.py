"""The training options both tasks share (steps, minutes, batch, learning rate, …), with
their bounds. Each task gives the defaults; the words and bounds are written once here.

The bounds keep a mistyped number from starting a run that can never end or never fit
(`hidden` 2**31, `steps` 10**12): generous for real work, far below what breaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from rnnlab.choices import OPTIMIZERS, PRECISIONS, SCHEDULES
from rnnlab.options.spec import Option

MAX_STEPS = 1_000_000_000
MAX_TIME_MIN = 7 * 24 * 60.0  # a week
MAX_HIDDEN = 8192
MAX_BATCH = 65_536
MAX_SEED = 2**32 - 1  # every RNG takes it, and a web page can write it exactly

PRECISION_HELP = (
    "autocast: auto (bf16 where the device multiplies it natively: CUDA, CPUs with AMX or "
    "AVX512-BF16; else fp32), fp32, bf16, fp16 (CUDA only)"
)


def train(name: str, kind: str, help: str, **kw) -> Option:
    return Option(name, kind, help, section="train", **kw)


# In the order `--help` and the page list them; a task takes those it names.
TRAIN_OPTIONS = (
    train("steps", "int", "optimiser steps", minimum=1, maximum=MAX_STEPS),
    train(
        "max_time",
        "float",
        "stop after MIN minutes of training",
        label="Minutes",
        above=0,
        maximum=MAX_TIME_MIN,
        field="max_time_min",
        metavar="MIN",
    ),
    train("batch_size", "int", "rows per step", minimum=1, maximum=MAX_BATCH),
    train("lr", "float", "peak learning rate", label="Learning rate", above=0, maximum=10),
    train("optimizer", "str", "optimiser", choices=OPTIMIZERS),
    train("weight_decay", "float", "weight decay", minimum=0, maximum=10),
    train(
        "ema",
        "float",
        "evaluate and keep a moving average of the weights with this decay (0.999)",
        label="Weight average (EMA)",
        minimum=0,
        below=1,
    ),
    train(
        "warmup",
        "int",
        "learning-rate warm-up steps",
        minimum=0,
        maximum=MAX_STEPS,
        field="warmup_steps",
    ),
    train("schedule", "str", "learning-rate schedule after warm-up", choices=SCHEDULES),
    train(
        "grad_clip",
        "float",
        "max gradient norm (0: off)",
        label="Gradient clip",
        minimum=0,
        maximum=1e6,
    ),
    train(
        "eval_every",
        "int",
        "steps between validations",
        label="Validate every",
        minimum=1,
        maximum=MAX_STEPS,
    ),
    train(
        "patience",
        "int",
        "stop after this many validations without improvement (0: never)",
        minimum=0,
        maximum=1_000_000,
    ),
    train("precision", "str", PRECISION_HELP, choices=PRECISIONS),
    train(
        "seed",
        "int",
        "random seed (weights, data)",
        default=0,
        minimum=0,
        maximum=MAX_SEED,
    ),
    train("device", "str", "auto, cpu or cuda", default="auto", group="run"),
)
ALWAYS = ("max_time", "seed", "device")  # every task has these, with the defaults above


def run_options(
    specs: Mapping[str, Mapping[str, Any]], max_time_help: str | None = None
) -> tuple[Option, ...]:
    """The shared training options a task names in `specs`, each with the fields it sets
    there (its default, or defaults by context, or other words); `max_time`, `seed` and
    `device` always."""
    chosen = []
    for option in TRAIN_OPTIONS:
        if option.name not in specs and option.name not in ALWAYS:
            continue
        changes = dict(specs.get(option.name, {}))
        if option.name == "max_time" and max_time_help:
            changes["help"] = max_time_help
        chosen.append(replace(option, **changes))
    return tuple(chosen)
