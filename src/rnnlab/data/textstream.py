"""Batches for truncated backpropagation through time over one long stream of ids.

`StreamBatches` lays the training ids out as `batch_size` parallel rows, as pytorch/examples'
word_language_model does, and walks along them `seq_len` characters per step:

    ids:   a b c d e f g h i j k l m n o p q r s t u v w x      (24 ids, batch_size 4)

    rows:  a b c d e f        step 1: inputs [:, 0:2]  targets [:, 1:3]   (a b -> b c, ...)
           g h i j k l        step 2: inputs [:, 2:4]  targets [:, 3:5]
           m n o p q r        ...
           s t u v w x

Row r at step k+1 continues the text where step k stopped, so the hidden state carried
from one step to the next belongs to the text that follows. When a pass over the rows ends,
the next step starts again at column 0 with `reset_state` set.

With a `shuffle_seed`, every pass after the first reads the text rotated by its own random
offset (the rows then wrap round the end of the text): the same rows, windows and batch
companions in every epoch let a model that sees the text 20 times learn them by heart, and
a fresh offset changes all three at no cost. The first pass is the layout above.

`ChunkBatches` is seed 003's layout instead: consecutive non-overlapping chunks of
`seq_len`, `batch_size` of them per step, the state reset every batch.

A batch is a pure function of the step, so a resumed run reads exactly the same data.
"""

from __future__ import annotations

import mmap

import numpy as np
import torch

from rnnlab.data.batch import IGNORE_INDEX, Batch
from rnnlab.data.corpus import oov_id
from rnnlab.errors import UserError

# Touched pages of a memory-mapped corpus count towards resident memory until released;
# dropping them after every this many bytes read keeps a multi-GB corpus from filling RSS,
# whatever the batch shape (a count of steps would let a large batch read far more).
RELEASE_PAGES_AFTER_BYTES = 64 * 2**20


def release_period(ids: np.ndarray, chars_per_step: int) -> int:
    """Steps between two releases of the pages read."""
    return max(1, RELEASE_PAGES_AFTER_BYTES // (chars_per_step * ids.dtype.itemsize))


def to_batch(inputs: np.ndarray, targets: np.ndarray, reset_state: bool) -> Batch:
    """uint ids -> int64 tensors; out-of-vocabulary ids are never targets, and as inputs
    they read as id 0 (they can only occur in text the vocabulary was not built from)."""
    oov = oov_id(inputs.dtype)
    x = torch.from_numpy(inputs.astype(np.int64))
    y = torch.from_numpy(targets.astype(np.int64))
    x[x == oov] = 0
    y[y == oov] = IGNORE_INDEX
    return Batch(x, y, reset_state=reset_state)


def release_pages(ids: np.ndarray) -> None:
    mm = getattr(ids, "_mmap", None) or getattr(getattr(ids, "base", None), "_mmap", None)
    if isinstance(mm, mmap.mmap) and hasattr(mm, "madvise"):
        mm.madvise(mmap.MADV_DONTNEED)


class StreamBatches:
    def __init__(
        self, ids: np.ndarray, batch_size: int, seq_len: int, shuffle_seed: int | None = None
    ) -> None:
        row_len = len(ids) // batch_size
        if row_len < seq_len + 1:
            raise UserError(
                f"training text has {len(ids)} characters: too short for `batch_size` "
                f"{batch_size} x `seq_len` {seq_len} (needs at least "
                f"{batch_size * (seq_len + 1)})"
            )
        self.ids = ids
        self.rows = ids[: row_len * batch_size].reshape(batch_size, row_len)
        self.seq_len = seq_len
        self.steps_per_epoch = (row_len - 1) // seq_len
        self.release_every = release_period(ids, batch_size * seq_len)
        self.shuffle_seed = shuffle_seed
        self.row_starts = np.arange(batch_size, dtype=np.int64)[:, None] * row_len

    def epoch_offset(self, epoch: int) -> int:
        """Where this pass's rotated text starts: 0 for the first pass (or unshuffled)."""
        if self.shuffle_seed is None or epoch == 0:
            return 0
        return int(np.random.default_rng([self.shuffle_seed, epoch]).integers(len(self.ids)))

    def __call__(self, step: int) -> Batch:
        if step % self.release_every == 0:
            release_pages(self.ids)
        epoch, k = divmod(step - 1, self.steps_per_epoch)
        start = k * self.seq_len
        offset = self.epoch_offset(epoch)
        if offset == 0:
            window = self.rows[:, start : start + self.seq_len + 1]
        else:  # a (batch, seq_len + 1) gather: the rotated text is never materialised
            columns = np.arange(start + offset, start + offset + self.seq_len + 1)
            window = self.ids[(self.row_starts + columns) % len(self.ids)]
        inputs, targets = np.array(window[:, :-1]), np.array(window[:, 1:])
        return to_batch(inputs, targets, reset_state=k == 0)


class ChunkBatches:
    def __init__(self, ids: np.ndarray, batch_size: int, seq_len: int) -> None:
        per_step = batch_size * seq_len
        self.steps_per_epoch = (len(ids) - 1) // per_step  # the seed drops the ragged end
        if self.steps_per_epoch < 1:
            raise UserError(
                f"training text has {len(ids)} characters: too short for one batch of "
                f"{batch_size} x {seq_len}"
            )
        self.ids = ids
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.release_every = release_period(ids, batch_size * seq_len)

    def __call__(self, step: int) -> Batch:
        if step % self.release_every == 0:
            release_pages(self.ids)
        k = (step - 1) % self.steps_per_epoch
        start = k * self.batch_size * self.seq_len
        block = np.array(self.ids[start : start + self.batch_size * self.seq_len + 1])
        inputs = block[:-1].reshape(self.batch_size, self.seq_len)
        targets = block[1:].reshape(self.batch_size, self.seq_len)
        return to_batch(inputs, targets, reset_state=True)
