"""Trainer: the loop shared by every task.

It knows steps, time budgets, optimisers, learning-rate schedules, clipping, mixed
precision, evaluation, checkpoints, early stopping and Ctrl-C; it does not know whether it
is training a cipher tagger or a language model. The model gives the loss of a batch
(`TaskModel.loss`: every trainable term inside one call); the task (`TrainTask`) gives the
batch for a step and an evaluation. A recurrent state the model hands back with its loss
(truncated BPTT) is detached, carried into the next step and checkpointed with the rest.

Resuming is exact for step-budgeted runs: batches are a pure function of the step (the
task's job), and the checkpoint holds the optimiser, RNG and carried states, so N steps +
resume + M steps ends with the same parameters as N + M steps in one go. A run budgeted by
time (`max_time_min`) schedules its learning rate by elapsed time, which no resume can
replay exactly; it continues with the time already spent.

Under torchrun the same loop runs on every rank (`Ranks`, train/distributed.py): each takes
its rows of the step's batch, DDP averages the gradients, rank 0 alone writes and displays,
and the decisions to stop are taken once for all ranks.
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
from rnnlab.errors import Interrupted, UserError
from rnnlab.io import write_json
from rnnlab.models.base import State, TaskModel, detach_state
from rnnlab.train.averaging import WeightAverage
from rnnlab.train.distributed import SINGLE, Ranks
from rnnlab.train.optim import OPTIMIZERS, make_optimizer
from rnnlab.train.precision import autocast, resolve_precision
from rnnlab.train.precision import check_name as check_precision_name


class TrainTask(Protocol):
    # Multiplies the model's loss before backward (seed 003 sums per-step means: 25).
    loss_scale: float

    def train_batch(self, step: int) -> Batch: ...

    def evaluate(self, model: nn.Module, ranks: Ranks = SINGLE) -> dict[str, float]:
        """Held-out metrics; must include "loss" (lower is better: it picks the best).
        Every rank calls it; each may score its share (`ranks.rows`) and add up the sums
        (`ranks.sum`), and all must return the numbers one process would."""
        ...


class Callbacks:
    """Hooks for display; the CLI implements them with a progress bar. All optional."""

    def on_start(self, start_step: int, total_steps: int | None) -> None: ...

    def on_step(self, step: int) -> None: ...

    def on_log(self, record: dict[str, Any]) -> None: ...

    def on_eval(self, record: dict[str, Any]) -> None: ...

    def on_end(self) -> None: ...

    def on_note(self, text: str) -> None:
        """Something the user should know about how the run continues (a resume)."""

    def should_stop(self) -> bool:
        """Asked after every step: True ends the run as Ctrl-C does (saved, then
        `Interrupted`). A front end with a stop button (the web page) answers it; a
        KeyboardInterrupt reaches only the main thread, not a training thread."""
        return False


@dataclass
class TrainConfig:
    steps: int = 300
    max_time_min: float | None = None  # stop after this many minutes instead of at `steps`
    batch_size: int = 64
    lr: float = 3e-3
    optimizer: str = "adam"  # adam | adamw | rmsprop
    weight_decay: float = 0.0
    schedule: str = "constant"  # constant | cosine (decays to lr_min_ratio * lr)
    warmup_steps: int = 0
    lr_min_ratio: float = 0.1
    ema: float = 0.0  # decay of a moving average of the weights that evaluation uses; 0: off
    grad_clip: float = 1.0  # max global grad norm; 0 disables
    eval_every: int = 100
    log_every: int = 10
    patience: int = 0  # stop after this many evaluations without a better loss; 0: never
    keep_best: bool = False  # also save the best-evaluated weights as best.safetensors
    precision: str = "fp32"  # auto | fp32 | bf16 | fp16 (autocast; train/precision.py)
    seed: int = 0
    device: str = "auto"

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"unknown optimizer {self.optimizer!r}; use {', '.join(OPTIMIZERS)}")
        if self.schedule not in ("constant", "cosine"):
            raise UserError(f"unknown schedule {self.schedule!r}; use constant or cosine")
        check_precision_name(self.precision)
        for name in ("steps", "batch_size", "eval_every", "log_every"):
            if getattr(self, name) < 1:
                raise UserError(f"`{name}` must be at least 1")
        if self.max_time_min is not None and not self.max_time_min > 0:
            raise UserError(f"`max_time` must be positive, got {self.max_time_min}")
        if not self.lr > 0:
            raise UserError(f"`lr` must be positive, got {self.lr}")
        if not 0.0 <= self.ema < 1.0:
            raise UserError(f"`ema` must be in [0, 1), got {self.ema}")
        if self.patience < 0 or self.warmup_steps < 0:
            raise UserError("`patience` and `warmup` must not be negative")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def lr_factor(step: int, progress: float, config: TrainConfig) -> float:
    """Multiplier on the base learning rate: linear warm-up over the first steps, then
    constant or cosine over `progress` (0 -> 1: the fraction of the step or time budget)."""
    warm = min(1.0, (step + 1) / config.warmup_steps) if config.warmup_steps else 1.0
    if config.schedule == "constant":
        return warm
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return warm * (config.lr_min_ratio + (1 - config.lr_min_ratio) * cosine)


class Trainer:
    def __init__(
        self,
        model: TaskModel,
        task: TrainTask,
        config: TrainConfig,
        out_dir: str | Path,
        run_config: dict[str, Any],
        callbacks: Callbacks | None = None,
        ranks: Ranks = SINGLE,
    ) -> None:
        self.model = model
        self.task = task
        self.config = config
        self.out_dir = Path(out_dir)
        self.run_config = run_config
        self.ranks = ranks
        ranks.check_batch(config.batch_size)
        # One progress bar and one set of eval lines: rank 0's.
        self.callbacks = (callbacks or Callbacks()) if ranks.main else Callbacks()
        self.device = ranks.device(resolve_device(config.device))
        self.metrics = ckpt.MetricsLog(self.out_dir)
        self.step = 0
        self.elapsed_s = 0.0  # training time spent, carried across resumes
        self.best_loss = math.inf
        self.evals_since_best = 0
        self.last_eval: dict[str, Any] = {}
        self.carried: State = None  # recurrent state carried between batches (TBPTT)
        self._config_written = False
        # Metrics wait in memory and reach metrics.jsonl with each save, so the log never
        # runs ahead of the checkpoint it describes (and nothing is written before it).
        self._pending_metrics: list[dict[str, Any]] = []
        self.model.to(self.device)
        self.optimizer = make_optimizer(
            config.optimizer, model, config.lr, config.weight_decay, self.device
        )
        self.loss_of = ranks.wrap(model)  # model.loss, or its DDP wrapper
        self.average = WeightAverage(model, config.ema) if config.ema else None
        ranks.separate_rng(config.seed)
        self.precision = resolve_precision(config.precision, self.device)
        # fp16 needs loss scaling to keep small gradients from flushing to zero; bf16 not.
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.precision == "fp16")

    # -- checkpoints -------------------------------------------------------------------

    def save(self) -> None:
        # Every rank takes part (the carried state and the RNG states are joined from all of
        # them); rank 0 alone writes.
        carried, rngs = self._joined_carried(), self._rng_states()
        if not self.ranks.main:
            self._pending_metrics.clear()  # rank 0 writes the same records
            self._saved()
            return
        # config.json goes out with the first weights, not at start-up: a run that dies
        # before its first save leaves no directory that looks like a checkpoint. It is
        # rewritten once per run so a resume that extends --steps is recorded.
        if not self._config_written:
            write_json(self.out_dir / ckpt.CONFIG, self.run_config)
            self._config_written = True
        state = {
            "step": self.step,
            "elapsed_s": self.elapsed_s,
            "best_loss": self.best_loss,
            "evals_since_best": self.evals_since_best,
            "optimizer": self.optimizer.state_dict(),
            "scaler": self.scaler.state_dict(),
            "rng_cpu": torch.get_rng_state(),
            "last_eval": {k: float(v) for k, v in self.last_eval.items() if _is_number(v)},
            "world_size": self.ranks.world,
        }
        if carried is not None:
            state["task"] = {"hidden": carried}
        if torch.cuda.is_available():
            state["rng_cuda"] = torch.cuda.get_rng_state_all()
        if self.ranks.distributed:
            state |= rngs
        # Trainer state first, weights second; both carry the step, and resume refuses a
        # pair whose steps differ (the only window a crash could leave).
        ckpt.save_trainer_state(self.out_dir, state)
        ckpt.save_weights(self.out_dir, self.model, self.step)
        if self.average is not None:
            self.average.save(self.out_dir, self.step)
        self.metrics.append(self._pending_metrics)
        self._pending_metrics.clear()
        self._saved()

    def _saved(self) -> None:
        # What a rank that loses the others reports. On ranks other than 0 it can be one
        # save ahead, if rank 0 died while writing it (the previous files then stand).
        self.ranks.left_behind = (
            f"the checkpoint of step {self.step} in {self.out_dir} is intact; continue it "
            f"with --resume"
        )

    def _joined_carried(self) -> list[torch.Tensor] | None:
        """The carried TBPTT state of every stream (each rank holds its own rows)."""
        if self.carried is None:
            return None
        parts = self.carried if isinstance(self.carried, tuple) else (self.carried,)
        return [self.ranks.join_rows(p, self.model.state_rows_dim).cpu() for p in parts]

    def _rng_states(self) -> dict[str, list[torch.Tensor]]:
        """Each rank's random state (dropout draws differ between ranks)."""
        if not self.ranks.distributed:
            return {}
        states = {"rng_ranks": self.ranks.gather(torch.get_rng_state())}
        if self.device.type == "cuda":
            states["rng_cuda_ranks"] = self.ranks.gather(torch.cuda.get_rng_state(self.device))
        return states

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
            if "scaler" in state:
                self.scaler.load_state_dict(state["scaler"])
            self._restore_rng(state)
            dim = self.model.state_rows_dim
            hidden = state.get("task", {}).get("hidden", [])
            parts = [self.ranks.own_rows(p, dim).to(self.device) for p in hidden]
            self.carried = None if not parts else tuple(parts) if len(parts) > 1 else parts[0]
            self.step = int(state["step"])
            self.elapsed_s = float(state.get("elapsed_s", 0.0))
            self.best_loss = float(state.get("best_loss", math.inf))
            self.evals_since_best = int(state.get("evals_since_best", 0))
        except (KeyError, ValueError, RuntimeError, TypeError) as e:
            raise UserError(f"{self.out_dir}: trainer state does not fit this run ({e})") from None
        self.last_eval = dict(state.get("last_eval", {}))
        if self.average is not None:
            self.average.restore(self.out_dir, self.step)
        if self.ranks.main:
            self.metrics.truncate_after(self.step)
        self._saved()

    def _restore_rng(self, state: dict[str, Any]) -> None:
        """Each rank's own random state when the run resumes on as many ranks as it was
        saved from; otherwise rank 0's, and new streams for the others (said plainly: the
        batches continue exactly, dropout's draws cannot)."""
        saved_world, world = int(state.get("world_size", 1)), self.ranks.world
        if "rng_ranks" in state and saved_world == world:
            torch.set_rng_state(state["rng_ranks"][self.ranks.rank])
            if "rng_cuda_ranks" in state and self.device.type == "cuda":
                torch.cuda.set_rng_state(state["rng_cuda_ranks"][self.ranks.rank], self.device)
            return
        torch.set_rng_state(state["rng_cpu"])
        if "rng_cuda" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        if saved_world != world:
            self.ranks.separate_rng(self.config.seed, int(state["step"]))
            self.callbacks.on_note(
                f"a run saved from {saved_world} process(es) resumes on {world}: the "
                f"batches continue exactly where they stopped; random draws (dropout) follow "
                f"new streams, so with dropout it differs from an uninterrupted run"
            )

    # -- the loop ----------------------------------------------------------------------

    def fit(self, resume: bool = False) -> dict[str, Any]:
        """Train until the step or time budget is spent (or patience runs out); returns the
        last evaluation record."""
        if resume:
            self.restore()
        cfg = self.config
        window = _Window()
        try:
            with self.ranks.stop_signals() as signalled:
                self.callbacks.on_start(self.step, None if cfg.max_time_min else cfg.steps)
                while not self._done():
                    started = time.perf_counter()
                    self._train_step(window)
                    spent = self.elapsed_s + time.perf_counter() - started
                    stop = signalled() or self.callbacks.should_stop()
                    # One decision for every rank: the same clock, the same last step.
                    self.elapsed_s, stop = self.ranks.agree(spent, stop)
                    last = self._done()
                    if self.step % cfg.log_every == 0 or last:
                        self._log(window.flush(self.step, self._lr(), self.ranks))
                    if self.step % cfg.eval_every == 0 or last:
                        self._evaluate()
                        self.save()
                        out_of_patience = self.evals_since_best >= cfg.patience
                        if cfg.patience and self.ranks.from_main(out_of_patience):
                            break
                    if stop:
                        self._stop()
        except KeyboardInterrupt:
            self._stop()
        self.callbacks.on_end()
        return self.last_eval

    def _stop(self) -> None:
        """End the run where it is: save the last step (if any), raise Interrupted."""
        self.callbacks.on_end()
        if self.step > 0:
            self.save()
        raise Interrupted(self.step) from None

    def _done(self) -> bool:
        if self.config.max_time_min is not None:
            return self.elapsed_s >= self.config.max_time_min * 60
        return self.step >= self.config.steps

    def _progress(self) -> float:
        if self.config.max_time_min is not None:
            return self.elapsed_s / (self.config.max_time_min * 60)
        return self.step / self.config.steps

    def _train_step(self, window: _Window) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.lr * lr_factor(self.step, self._progress(), self.config)
        self.model.train()
        batch, weight = self.ranks.shard(self.task.train_batch(self.step + 1))
        batch = batch.to(self.device)
        with self._autocast():
            out = self.loss_of(batch, self.carried)
            loss = out.loss * self.task.loss_scale
        self.carried = detach_state(out.state)  # keep the values, cut the graph
        self.optimizer.zero_grad(set_to_none=True)
        # weight: this rank's share of the step's targets (Ranks.shard); 1.0 in one process.
        self.scaler.scale(loss * weight if weight != 1.0 else loss).backward()
        if self.config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.average is not None:
            self.average.update(self.model)
        self.step += 1
        window.add(float(loss.detach()) * weight, out.stats)
        self.callbacks.on_step(self.step)

    def _autocast(self):
        return autocast(self.precision, self.device)

    def _evaluate(self) -> None:
        scored = self.model if self.average is None else self.average.module
        scored.eval()
        with torch.no_grad(), self._autocast():
            result = self.task.evaluate(scored, self.ranks)
        self.last_eval = {"step": self.step, "split": "val", **result}
        if result["loss"] < self.best_loss:
            self.best_loss = result["loss"]
            self.evals_since_best = 0
            self.last_eval["best"] = True
            if self.config.keep_best and self.ranks.main:
                ckpt.save_weights(self.out_dir, scored, self.step, name=ckpt.BEST_WEIGHTS)
        else:
            self.evals_since_best += 1
        self._pending_metrics.append(self.last_eval)
        self.callbacks.on_eval(self.last_eval)

    def _log(self, record: dict[str, Any]) -> None:
        record["elapsed_s"] = round(self.elapsed_s, 3)
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

    def flush(self, step: int, lr: float, ranks: Ranks = SINGLE) -> dict[str, Any]:
        elapsed = time.perf_counter() - self.started
        # Summed over the ranks, so the record describes the whole batch, as in one process.
        names = sorted(self.sums)
        loss_sum, n, *values = ranks.sum(
            [sum(self.losses), float(len(self.losses)), *(self.sums[k] for k in names)]
        )
        sums = dict(zip(names, values, strict=True))
        record: dict[str, Any] = {
            "step": step,
            "split": "train",
            "loss": loss_sum / max(1, n),
            "lr": lr,
        }
        count = sums.get("count", 0.0)
        if count:
            if "correct" in sums:
                record["accuracy"] = sums["correct"] / count
            record["chars_per_s"] = count / max(elapsed, 1e-9)
        self.reset()
        return record


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)
