"""What every task model is to the rest of rnnlab: one way to train it, one way to use it.

    loss(batch, state)  -> LossOutput   every trainable term of a training step, so that a
                                        wrapper such as DistributedDataParallel sees all of
                                        the gradients (two-pass adds its key loss here)
    decode(inputs, …)   -> Decoded      what the model makes of `inputs` in use: output
                                        ids, and the logits and named keys where it has them

Task code (training, scoring, decrypting, sampling) calls only these and the flags below,
so it never asks which class a model is. The registry (`models/registry.py`) maps the
architecture name recorded in config.json to the class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.data.batch import IGNORE_INDEX, Batch
from rnnlab.errors import UserError

State = Any  # a recurrent state: a tensor, a tuple of tensors, or a model's own tuple
TIME_CHUNK = 512  # characters per piece when streaming a long text through a model


@dataclass
class LossOutput:
    loss: torch.Tensor  # the scalar to minimise
    stats: dict[str, float]  # counts the Trainer sums over a log window: "count", "correct"
    state: State = None  # recurrent state to carry into the next batch (truncated BPTT)


@dataclass
class Decoded:
    ids: torch.Tensor  # (batch, time) the model's output ids
    logits: torch.Tensor | None = None  # (batch, time, vocab) scores behind them, if made
    state: State = None  # the state after the last position (to continue from)
    keys: tuple[torch.Tensor, torch.Tensor] | None = None  # the key a model named


class ModelConfig:
    """Mixin for model config dataclasses: each names its architecture."""

    architecture: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]


class DecipherConfig(ModelConfig):
    """Mixin for decipher model configs: the sizes the data decides are filled in here."""

    in_vocab_size: int
    out_vocab_size: int
    # Train on each batch's keys over uniformly random plaintext too (the two-pass model
    # with table keys needs it; see TwoPassModelConfig).
    uniform_drill: ClassVar[bool] = False

    def sized_for(self, in_vocab: int, out_vocab: int, key_space: Any = None) -> None:
        """Fill in the vocabulary sizes (and, for keyed models, the key sizes of
        `key_space`, a ciphers.keygen.KeySpace) once the data is known."""
        self.in_vocab_size, self.out_vocab_size = in_vocab, out_vocab


def check_at_least_one(config: Any, names: tuple[str, ...], unset_ok: tuple[str, ...] = ()) -> None:
    """Sizes must be positive; those in `unset_ok` may also be 0, meaning "filled in from
    the data" (vocabulary and key sizes, known once the data is read)."""
    for name in names:
        value = getattr(config, name)
        if value < 1 and not (name in unset_ok and value == 0):
            raise UserError(f"{name} must be at least 1, got {value}")


def require_sizes(config: Any, names: tuple[str, ...]) -> None:
    """Building a model needs the sizes the data fills in; 0 means it never was."""
    missing = [n for n in names if getattr(config, n) < 1]
    if missing:
        raise ValueError(f"{type(config).__name__}: {', '.join(missing)} not filled in from data")


class TaskModel(nn.Module):
    """Base of every registered model. Subclasses set the class attributes and implement
    `loss` and `decode`; `forward` stays each model's own (its maths, its signature)."""

    architecture: ClassVar[str]
    task: ClassVar[str]  # "decipher" or "lm"
    config_class: ClassVar[type]
    needs_keys: ClassVar[bool] = False  # decodes under a key the caller hands it
    names_keys: ClassVar[bool] = False  # reads the key from the ciphertext, and can say it
    # The batch (row) dimension of every tensor in the state `loss` carries between steps:
    # data-parallel training splits it across ranks and joins it again for checkpoints.
    state_rows_dim: ClassVar[int] = 1  # torch.nn's (layers, batch, hidden)

    def loss(self, batch: Batch, state: State = None) -> LossOutput:
        raise NotImplementedError

    # decode(inputs, …) -> Decoded: each task's models share one signature (see
    # DecipherModel.decode; CharLM.decode takes the state to continue from).


class DecipherModel(TaskModel):
    """A model that maps ciphertext ids to plaintext ids, one per position."""

    task = "decipher"

    def decode(
        self,
        inputs: torch.Tensor,
        keys: torch.Tensor | None = None,
        key_lengths: torch.Tensor | None = None,
        lengths: torch.Tensor | None = None,
        chunk: int = TIME_CHUNK,
    ) -> Decoded:
        """Plaintext ids as the model decrypts in use (under `keys` for a model that
        `needs_keys`; `lengths` marks right-padded rows), streaming long text in `chunk`
        pieces so that memory does not grow with its length."""
        raise NotImplementedError

    def teacher_forced(self, batch: Batch) -> torch.Tensor:
        """Logits for every position as in training (the true previous plaintext, the
        true key: whatever the model reads besides the ciphertext)."""
        raise NotImplementedError

    def loss(self, batch: Batch, state: State = None) -> LossOutput:
        logits = self.teacher_forced(batch)
        return LossOutput(token_loss(logits, batch.targets), tagging_stats(logits, batch.targets))


def token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the real (not padded) positions."""
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def tagging_stats(logits: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    mask = targets != IGNORE_INDEX
    correct = ((logits.argmax(-1) == targets) & mask).sum()
    return {"count": float(mask.sum()), "correct": float(correct)}


def require_keys(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    if batch.keys is None or batch.key_lengths is None:
        raise UserError("this model learns from each message's key, and the batch has none")
    return batch.keys, batch.key_lengths


def chunked(
    inputs: torch.Tensor,
    chunk: int,
    step: Callable[[torch.Tensor, State], tuple[torch.Tensor, State]],
) -> tuple[torch.Tensor, State]:
    """Run `step(piece, state) -> (output, state)` over `inputs` (batch, time) in pieces of
    `chunk` positions, carrying the state, so that memory never holds more than one piece
    of activations however long the text. Outputs are joined along time."""
    state: State = None
    pieces = []
    for start in range(0, inputs.shape[1], chunk):
        out, state = step(inputs[:, start : start + chunk], state)
        pieces.append(out)
    return torch.cat(pieces, dim=1), state


def detach_state(state: State) -> State:
    """Keep the values, cut the graph: truncated BPTT's boundary between two batches."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()
