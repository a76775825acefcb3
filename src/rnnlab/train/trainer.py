"""Trainer: the loop shared by every task.

It knows steps, optimisers, clipping, evaluation, checkpoints and Ctrl-C; it does not know
whether it is training a cipher tagger or a language model. A task hands it three things
(`TrainTask`): the batch for a step, the loss of a batch, and an evaluation.

Resuming is exact: batches are a pure function of the step (the task's job), and the
checkpoint holds the optimiser, scheduler and RNG states, so N steps + resume + M steps
ends with the same parameters as N + M steps in one go.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from rnnlab import checkpoint as ckpt
from rnnlab.data.batch import Batch
from rnnlab.device import resolve_device
from rnnlab.errors import UserError


class TrainTask(Protocol):
    def train_batch(self, step: int) -> Batch: ...

    def loss(self, model: nn.Module, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        """Mean loss of the batch, and counts to sum over a log window ("correct", "count")."""
        ...

    def evaluate(self, model: nn.Module) -> dict[str, float]: ...


class Callbacks:
    """Hooks for display; the CLI implements them with a progress bar. All optional."""

    def on_start(self, start_step: int, total_steps: int) -> None: ...

    def on_step(self, step: int) -> None: ...

    def on_log(self, record: dict[str, Any]) -> None: ...

    def on_eval(self, record: dict[str, Any]) -> None: ...

    def on_end(self) -> None: ...


class Interrupted(Exception):
    """Training stopped by Ctrl-C; `step` is the last step saved (0: nothing was saved)."""

    def __init__(self, step: int) -> None:
        super().__init__(f"interrupted at step {step}")
        self.step = step


OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "rmsprop": torch.optim.RMSprop}


@dataclass
class TrainConfig:
    steps: int = 300
    batch_size: int = 64
    lr: float = 3e-3
    optimizer: str = "adam"  # adam | adamw | rmsprop
    weight_decay: float = 0.0
    schedule: str = "constant"  # constant | cosine (decays to lr_min_ratio * lr)
    warmup_steps: int = 0
    lr_min_ratio: float = 0.1
    grad_clip: float = 1.0  # max global grad norm; 0 disables
    eval_every: int = 100
    log_every: int = 10
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"unknown optimizer {self.optimizer!r}; use {', '.join(OPTIMIZERS)}")
        if self.schedule not in ("constant", "cosine"):
            raise UserError(f"unknown schedule {self.schedule!r}; use constant or cosine")
        for name in ("steps", "batch_size", "eval_every", "log_every"):
            if getattr(self, name) < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1")
        if not self.lr > 0:
            raise UserError(f"--lr must be positive, got {self.lr}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lr_factor(step: int, config: TrainConfig) -> float:
    """Multiplier on the base learning rate at `step` (0-based count of steps done)."""
    if config.warmup_steps and step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "constant":
        return 1.0
    span = max(1, config.steps - config.warmup_steps)
    progress = min(1.0, (step - config.warmup_steps) / span)
    cosine = 0.5 * (1 + math.cos(math.pi * progress))
    return config.lr_min_ratio + (1 - config.lr_min_ratio) * cosine


class Trainer:
    def __init__(
        self,
        model: nn.Module,
        task: TrainTask,
        config: TrainConfig,
        out_dir: str | Path,
        run_config: dict[str, Any],
        callbacks: Callbacks | None = None,
    ) -> None:
        self.model = model
        self.task = task
        self.config = config
        self.out_dir = Path(out_dir)
        self.run_config = run_config
        self.callbacks = callbacks or Callbacks()
        self.device = resolve_device(config.device)
        self.metrics = ckpt.MetricsLog(self.out_dir)
        self.step = 0
        self._config_written = False
        # Metrics wait in memory and reach metrics.jsonl with each save, so the log never
        # runs ahead of the checkpoint it describes (and nothing is written before it).
        self._pending_metrics: list[dict[str, Any]] = []
        self.last_eval: dict[str, Any] = {}
        self.model.to(self.device)
        opt_cls = OPTIMIZERS[config.optimizer]
        self.optimizer = opt_cls(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, config)
        )

    # -- checkpoints -------------------------------------------------------------------

    def save(self) -> None:
        # config.json goes out with the first weights, not at start-up: a run that dies
        # before its first save leaves no directory that looks like a checkpoint. It is
        # rewritten once per run so a resume that extends --steps is recorded.
        if not self._config_written:
            ckpt.write_json(self.out_dir / ckpt.CONFIG, self.run_config)
            self._config_written = True
        state = {
            "step": self.step,
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng_cpu": torch.get_rng_state(),
            "last_eval": {k: float(v) for k, v in self.last_eval.items() if _is_number(v)},
        }
        if torch.cuda.is_available():
            state["rng_cuda"] = torch.cuda.get_rng_state_all()
        # Trainer state first, weights second; both carry the step, and resume refuses a
        # pair whose steps differ (the only window a crash could leave).
        ckpt.save_trainer_state(self.out_dir, state)
        ckpt.save_weights(self.out_dir, self.model, self.step)
        self.metrics.append(self._pending_metrics)
        self._pending_metrics.clear()

    def restore(self) -> None:
        state = ckpt.load_trainer_state(self.out_dir)
        weights_at = ckpt.weights_step(self.out_dir)
        if weights_at is not None and weights_at != state.get("step"):
            raise UserError(
                f"{self.out_dir}: weights (step {weights_at}) and trainer state (step "
                f"{state.get('step')}) are from different saves; cannot resume exactly"
            )
        ckpt.load_weights(self.out_dir, self.model)
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
            torch.set_rng_state(state["rng_cpu"])
            if "rng_cuda" in state and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(state["rng_cuda"])
            self.step = int(state["step"])
        except (KeyError, ValueError, RuntimeError, TypeError) as e:
            raise UserError(f"{self.out_dir}: trainer state does not fit this run ({e})") from None
        self.last_eval = dict(state.get("last_eval", {}))
        self.metrics.truncate_after(self.step)

    # -- the loop ----------------------------------------------------------------------

    def fit(self, resume: bool = False) -> dict[str, Any]:
        """Train to `config.steps`; returns the last evaluation record."""
        if resume:
            self.restore()
        cfg = self.config
        window = _Window()
        try:
            self.callbacks.on_start(self.step, cfg.steps)
            while self.step < cfg.steps:
                self._train_step(window)
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    self._log(window.flush(self.step, self._lr()))
                if self.step % cfg.eval_every == 0 or self.step == cfg.steps:
                    self._evaluate()
                    self.save()
        except KeyboardInterrupt:
            self.callbacks.on_end()
            if self.step > 0:
                self.save()
            raise Interrupted(self.step) from None
        self.callbacks.on_end()
        return self.last_eval

    def _train_step(self, window: _Window) -> None:
        self.model.train()
        batch = self.task.train_batch(self.step + 1).to(self.device)
        loss, stats = self.task.loss(self.model, batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.step += 1
        window.add(float(loss.detach()), stats)
        self.callbacks.on_step(self.step)

    def _evaluate(self) -> None:
        self.model.eval()
        with torch.no_grad():
            result = self.task.evaluate(self.model)
        self.last_eval = {"step": self.step, "split": "val", **result}
        self._pending_metrics.append(self.last_eval)
        self.callbacks.on_eval(self.last_eval)

    def _log(self, record: dict[str, Any]) -> None:
        self._pending_metrics.append(record)
        self.callbacks.on_log(record)

    def _lr(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])


class _Window:
    """Sums over the steps between two log lines."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.losses: list[float] = []
        self.sums: dict[str, float] = {}
        self.started = time.perf_counter()

    def add(self, loss: float, stats: dict[str, float]) -> None:
        self.losses.append(loss)
        for k, v in stats.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)

    def flush(self, step: int, lr: float) -> dict[str, Any]:
        elapsed = time.perf_counter() - self.started
        record: dict[str, Any] = {
            "step": step,
            "split": "train",
            "loss": sum(self.losses) / max(1, len(self.losses)),
            "lr": lr,
        }
        count = self.sums.get("count", 0.0)
        if count:
            if "correct" in self.sums:
                record["accuracy"] = self.sums["correct"] / count
            record["chars_per_s"] = count / max(elapsed, 1e-9)
        self.reset()
        return record


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
