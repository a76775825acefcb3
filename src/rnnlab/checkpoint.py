"""Checkpoint directories: a person can open them, and loading them runs no code.

    DIR/config.json        what was trained and how (task, model, data, vocab, version)
    DIR/model.safetensors  weights only (the training weights: a resume continues them)
    DIR/best.safetensors   the best-evaluated weights, when the run keeps them
    DIR/average.safetensors  their moving average, when the run keeps one (--ema)
    DIR/trainer_state.pt   optimiser, step, RNG states; loaded with weights_only=True
    DIR/metrics.jsonl      one JSON object per logged step or evaluation

Every file is written to a temporary name in the same directory and renamed into place, so
a crash or Ctrl-C mid-save leaves the previous good file, never half of a new one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from rnnlab.errors import UserError
from rnnlab.io import append_lines, atomic_write, refuse_link

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
BEST_WEIGHTS = "best.safetensors"  # the best-evaluated weights, when a run keeps them
AVERAGE_WEIGHTS = "average.safetensors"  # the moving average of the weights (--ema)
TRAINER_STATE = "trainer_state.pt"
METRICS = "metrics.jsonl"


def is_checkpoint(directory: Path) -> bool:
    return (directory / CONFIG).exists() or (directory / WEIGHTS).exists()


def read_config(directory: str | Path) -> dict[str, Any]:
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory}: no such checkpoint directory")
    path = directory / CONFIG
    if not path.exists():
        raise UserError(f"{directory}: not an rnnlab checkpoint (no {CONFIG})")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: corrupted ({e})") from None
    if not isinstance(config, dict) or "task" not in config:
        raise UserError(f"{path}: not an rnnlab config (no 'task' field)")
    return config


def require_task(config: dict[str, Any], directory: Path, task: str) -> None:
    if config.get("task") != task:
        raise UserError(f"{directory} holds a {config.get('task')!r} model, not a {task!r} model")


def prepare_out_dir(out: Path, resume: bool) -> None:
    """Refuse to overwrite a checkpoint unless resuming it; refuse to resume nothing."""
    if resume:
        if not is_checkpoint(out):
            raise UserError(f"{out}: nothing to resume (no checkpoint there)")
    elif is_checkpoint(out):
        raise UserError(
            f"{out} already holds a checkpoint; pass `resume` to continue it, or choose "
            f"another `out`"
        )


def start_or_resume(
    out: Path,
    resume: bool,
    run: Any,
    steps: int | None,
    task: str,
    from_config: Callable[[dict[str, Any]], Any],
) -> Any:
    """The run to train into `out`: `run` itself, or on resume the run saved there (flags
    describing the model or data are then ignored); `steps` may extend either."""
    prepare_out_dir(out, resume)
    if resume:
        saved = read_config(out)
        require_task(saved, out, task)
        run = from_config(saved)
    if steps is not None:
        run.train.steps = steps
    return run


def save_weights(directory: Path, model: nn.Module, step: int, name: str = WEIGHTS) -> None:
    # safetensors wants contiguous CPU tensors that share no memory (tied weights do, so
    # each is copied); the step in the metadata lets resume check that weights and trainer
    # state come from the same save.
    tensors = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    atomic_write(
        directory / name, lambda tmp: save_file(tensors, str(tmp), metadata={"step": str(step)})
    )


def load_weights(directory: str | Path, model: nn.Module, name: str = WEIGHTS) -> None:
    """Load weights into `model` (on whatever device it is); any mismatch is a UserError."""
    path = Path(directory) / name
    if not path.exists():
        raise UserError(f"{directory}: checkpoint has no {name}")
    try:
        tensors = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise UserError(f"{path}: corrupted or not a safetensors file ({e})") from None
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise UserError(f"{path}: weights do not match the config ({detail})") from None


def weights_step(directory: Path) -> int | None:
    from safetensors import safe_open

    try:
        with safe_open(str(directory / WEIGHTS), framework="pt") as f:
            step = (f.metadata() or {}).get("step")
    except (SafetensorError, OSError) as e:
        raise UserError(f"{directory / WEIGHTS}: corrupted ({e})") from None
    return int(step) if step is not None else None


def save_trainer_state(directory: Path, state: dict[str, Any]) -> None:
    atomic_write(directory / TRAINER_STATE, lambda tmp: torch.save(state, tmp))


def load_trainer_state(directory: Path) -> dict[str, Any]:
    path = directory / TRAINER_STATE
    if not path.exists():
        raise UserError(f"{directory}: nothing to resume (no {TRAINER_STATE})")
    try:
        # weights_only: a checkpoint from someone else cannot run code when loaded.
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many types for a damaged zip or pickle
        raise UserError(f"{path}: corrupted ({type(e).__name__})") from None


class MetricsLog:
    """Append-only metrics.jsonl; on resume, entries after the resumed step are dropped so
    the log reads like one uninterrupted run."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / METRICS
        refuse_link(self.path)  # now, before any training, not at the first save

    def append(self, records: list[dict[str, Any]]) -> None:
        append_lines(self.path, (json.dumps(r) + "\n" for r in records))

    def truncate_after(self, step: int) -> None:
        if not self.path.exists():
            return
        kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= step]
        text = "".join(json.dumps(r) + "\n" for r in kept)
        atomic_write(self.path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def read_metrics(path: Path) -> list[dict[str, Any]]:
    records = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            raise UserError(f"{path}:{lineno}: not a JSON line") from None
    return records
