"""Data-parallel training: one run over many processes (torchrun, DistributedDataParallel).

Under `torchrun` (or anything that sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT)
every process runs the same `rnnlab … train`, joins one process group and takes a share of
every step. `--batch-size` stays the global batch, which is a pure function of (seed,
step), so each rank builds the whole batch and keeps its own rows:

    global batch of step k (B rows)        B = 8, 2 ranks
    row 0 ┐
    row 1 │ rank 0: loss over its rows ─┐
    row 2 │                             ├─ DDP averages the gradients; every rank then
    row 3 ┘                             │  takes the same optimiser step
    row 4 ┐                             │
     …    │ rank 1 ─────────────────────┘
    row 7 ┘

For the language model the rows are the TBPTT streams (data/textstream.py): rank r holds
the same streams every step, so the state carried from one step to the next stays on the
rank that made it. Checkpoints join the ranks' rows into the one full state, so a run saved
on N ranks resumes on any M that divides the batch (1 included) exactly.

Besides the gradients, ranks exchange only small things: once a step the stop decision and
the elapsed time (so `--max-time` and Ctrl-C end every rank after the same step), the sums
behind each log line and each sharded validation, and at each save the carried state and
RNG states that rank 0 writes. Rank 0 alone writes files and draws the progress bar.

A collective that fails (a rank died: its sockets close) or waits longer than the timeout
(a rank hangs) becomes `LostRank`, one line naming the checkpoint that is left.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import re
import signal
import threading
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from rnnlab.data.batch import Batch
from rnnlab.errors import Interrupted, LostRank, UserError
from rnnlab.models.base import LossOutput, State, TaskModel

# Seconds one collective waits for the other ranks before the run gives up on them. A rank
# that dies is noticed at once (its connections close); this bounds a rank that hangs. It
# must exceed the longest time one rank works alone while the others wait: rank 0 encoding
# a new corpus at start-up, or writing a checkpoint. torch's own default for gloo.
TIMEOUT_ENV = "RNNLAB_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 1800.0


def launched() -> bool:
    """Whether this process was started as one rank of a distributed run."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def is_main_process() -> bool:
    """Rank 0 (or not distributed): the process that writes files and prints results."""
    return int(os.environ.get("RANK", "0")) == 0


class LossCall(nn.Module):
    """DistributedDataParallel hooks only what runs through `forward`, and a model's
    `forward` is its own maths, not its training loss: this forward is `model.loss`, so
    the wrapper sees every trainable term (models/base.py)."""

    def __init__(self, model: TaskModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Batch, state: State) -> LossOutput:
        return self.model.loss(batch, state)


class Ranks:
    """This process's place in a run. The default is one process on its own: every method
    is then a no-op, so the Trainer has a single code path."""

    def __init__(self, rank: int = 0, world: int = 1, local_rank: int = 0) -> None:
        self.rank, self.world, self.local_rank = rank, world, local_rank
        self.distributed = False  # set by `process_group` once the group is joined
        # What a lost rank leaves behind, kept current by the Trainer after each save.
        self.left_behind = "nothing was saved"

    @property
    def main(self) -> bool:
        return self.rank == 0

    def device(self, device: torch.device) -> torch.device:
        """Each rank drives the GPU numbered by its LOCAL_RANK (its index on this node)."""
        if not self.distributed or device.type != "cuda":
            return device
        return torch.device("cuda", self.local_rank)

    # -- training --------------------------------------------------------------------

    def check_batch(self, batch_size: int) -> None:
        if batch_size % self.world:
            raise UserError(
                f"`batch_size` {batch_size} does not split evenly over {self.world} ranks; "
                f"use a multiple of {self.world} (it is the global batch) or another number "
                f"of ranks"
            )

    def rows(self, n: int) -> slice:
        """This rank's contiguous share of `n` rows (the shares differ by at most one)."""
        return slice(self.rank * n // self.world, (self.rank + 1) * n // self.world)

    def shard(self, batch: Batch) -> tuple[Batch, float]:
        """This rank's rows of a step's global batch, and the weight of its loss.

        Every model's loss is a mean over the batch's targets; DDP averages the ranks'
        gradients. When padding gives ranks different numbers of targets (a pairs file's
        ragged lines) the plain average of means would weigh a short row more than in one
        process, so each rank's mean is weighted by its share of the targets: world *
        n_rank / n_total (exactly 1.0 when the shares are equal)."""
        if not self.distributed:
            return batch, 1.0
        part = batch.take_rows(self.rows(len(batch.inputs)))
        total = batch.num_targets
        return part, (self.world * part.num_targets / total) if total else 1.0

    def wrap(self, model: TaskModel) -> Callable[[Batch, State], LossOutput]:
        """What the Trainer calls for a step's loss: the model's own `loss`, or under DDP
        the wrapper that averages gradients across ranks in backward."""
        if not self.distributed:
            return model.loss
        # A (1, n) parameter's gradient can come back with strides (1, 1) where DDP's bucket
        # has (n, 1): the same memory order, yet DDP warns on every rank (two-pass models).
        warnings.filterwarnings("ignore", message="Grad strides do not match bucket view")
        # device_ids=None: DDP moves no inputs (a Batch is already on the device, and its
        # lengths must stay on the CPU for pack_padded_sequence).
        return nn.parallel.DistributedDataParallel(LossCall(model), device_ids=None)

    def separate_rng(self, seed: int, step: int = 0) -> None:
        """Give every rank but 0 its own random stream (dropout) from the seed (and the step
        a resume starts at), so that ranks do not draw the same masks for their rows."""
        if self.distributed and self.rank:
            entropy = np.random.SeedSequence([seed, self.rank, step]).generate_state(1)[0]
            torch.manual_seed(int(entropy))

    # -- agreeing --------------------------------------------------------------------

    def agree(self, elapsed_s: float, stop: bool) -> tuple[float, bool]:
        """One decision for all ranks after a step: the longest elapsed time (which the
        time budget and a time-based schedule read) and whether any rank was asked to stop."""
        if not self.distributed:
            return elapsed_s, stop
        t = torch.tensor([elapsed_s, float(stop)], dtype=torch.float64)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return float(t[0]), bool(t[1])

    def from_main(self, flag: bool) -> bool:
        """Rank 0's decision (early stopping), the same on every rank."""
        if not self.distributed:
            return flag
        t = torch.tensor([float(flag)], dtype=torch.float64)
        dist.broadcast(t, src=0)
        return bool(t[0])

    def sum(self, values: list[float]) -> list[float]:
        """Element-wise sums over the ranks (in float64: counts stay exact)."""
        if not self.distributed:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t)
        return t.tolist()

    # -- checkpoints -----------------------------------------------------------------

    def join_rows(self, t: torch.Tensor, dim: int) -> torch.Tensor:
        """Every rank's rows of `t` along `dim`, in rank order: the whole batch's state."""
        if not self.distributed:
            return t
        parts = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(parts, t.contiguous())
        return torch.cat(parts, dim=dim)

    def own_rows(self, t: torch.Tensor, dim: int) -> torch.Tensor:
        """This rank's rows of a whole batch's `t` (the inverse of `join_rows`)."""
        if not self.distributed:
            return t
        rows = self.rows(t.shape[dim])
        return t.narrow(dim, rows.start, rows.stop - rows.start)

    def gather(self, t: torch.Tensor) -> list[torch.Tensor]:
        """`t` from every rank (the same shape on each), in rank order."""
        if not self.distributed:
            return [t]
        parts = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(parts, t)
        return parts

    @contextlib.contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block before the others (it fills a shared cache they read)."""
        if self.distributed and not self.main:
            dist.barrier()
        yield
        if self.distributed and self.main:
            dist.barrier()

    @contextlib.contextmanager
    def stop_signals(self) -> Iterator[Callable[[], bool]]:
        """Yields `asked()`: whether Ctrl-C (SIGINT) or a scheduler's SIGTERM arrived.

        One process keeps Python's KeyboardInterrupt. Ranks must not stop where the signal
        lands (mid-collective, at different steps): the handler only notes it, and `agree`
        ends every rank after the same step, where rank 0 saves."""
        asked = threading.Event()
        if not self.distributed or threading.current_thread() is not threading.main_thread():
            yield asked.is_set
            return
        previous = {s: signal.signal(s, lambda *_: asked.set()) for s in STOP_SIGNALS}
        try:
            yield asked.is_set
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SINGLE = Ranks()


def collective_timeout() -> datetime.timedelta:
    raw = os.environ.get(TIMEOUT_ENV)
    try:
        seconds = DEFAULT_TIMEOUT_S if raw is None else float(raw)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise UserError(f"{TIMEOUT_ENV} must be a positive number of seconds, got {raw!r}")
    return datetime.timedelta(seconds=seconds)


def threads_per_rank(local_world: int) -> int:
    """The cores this process may use, shared among the ranks on this node."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, local_world))


@contextlib.contextmanager
def process_group(device: torch.device) -> Iterator[Ranks]:
    """Join the run torchrun describes in the environment for the block (one process on
    its own when there is none): gloo on CPU, NCCL for CUDA tensors with gloo beside it
    for the small CPU-side exchanges. A collective that fails inside the block becomes
    `LostRank`. A group the caller had already joined is used and left alone."""
    if not launched():
        yield SINGLE
        return
    env = os.environ
    ranks = Ranks(int(env["RANK"]), int(env["WORLD_SIZE"]), int(env.get("LOCAL_RANK", "0")))
    local_world = int(env.get("LOCAL_WORLD_SIZE", env["WORLD_SIZE"]))
    if device.type == "cuda":
        # Before any collective: NCCL (and a barrier) use the current device, which would
        # otherwise be GPU 0 for every rank on the node.
        if ranks.local_rank >= torch.cuda.device_count():
            raise UserError(
                f"LOCAL_RANK {ranks.local_rank} has no GPU: {torch.cuda.device_count()} "
                f"visible on this node; start at most that many processes per node"
            )
        torch.cuda.set_device(ranks.local_rank)
    owned = not dist.is_initialized()
    if owned:
        backend = "cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, timeout=collective_timeout())
    if device.type == "cpu":
        # torchrun sets OMP_NUM_THREADS=1 for every rank; N ranks on C cores can use C/N.
        torch.set_num_threads(threads_per_rank(local_world))
    ranks.distributed = True
    try:
        try:
            yield ranks
        except Interrupted:
            done_together(owned)  # every rank stopped after the same step
            raise
        done_together(owned)
    except RuntimeError as e:
        if not is_collective_failure(e):
            raise
        raise LostRank(
            f"rank {ranks.rank} of {ranks.world}: lost contact with the other ranks "
            f"({failure_reason(e)}); {ranks.left_behind}"
        ) from None
    finally:
        if owned:
            dist.destroy_process_group()


def done_together(owned: bool) -> None:
    """Wait for every rank (rank 0 finishing its last save) before any tears the group
    down, so no rank closes its connections while another still works with them."""
    if owned:
        dist.barrier()


def is_collective_failure(e: BaseException) -> bool:
    """A failure of the transport between ranks (gloo, NCCL, the rendezvous store), as
    opposed to an error in the training code itself (which keeps its traceback)."""
    if isinstance(e, dist.DistError):
        return True
    return bool(re.search(r"gloo|nccl|connection|timed out|peer", str(e), re.IGNORECASE))


def failure_reason(e: BaseException) -> str:
    """gloo's message without its source-file prefix and advice: 'Connection reset by
    peer', 'Timed out waiting 3000ms for recv operation to complete'."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    text = re.sub(r"^\[[^\]]*\]\s*", "", text)
    return text.split(". ")[0].rstrip(".")
