"""Batch: the unit the Trainer moves to the device and hands to a task's loss."""

from __future__ import annotations

from dataclasses import dataclass

import torch

# Targets at padded positions carry this id so cross-entropy skips them (PyTorch's default).
IGNORE_INDEX = -100


@dataclass
class Batch:
    inputs: torch.Tensor  # (batch, time) int64 ids
    targets: torch.Tensor  # (batch, time) int64 ids, IGNORE_INDEX where padded
    lengths: torch.Tensor | None = None  # (batch,) true lengths when rows differ, on CPU
    reset_state: bool = False  # a stream restarts here: carried recurrent state is stale
    # --key-mode given/unknown: each message's key as alphabet indices, right-padded with 0,
    # and each key's length. None for one fixed key.
    keys: torch.Tensor | None = None  # (batch, max key length) int64
    key_lengths: torch.Tensor | None = None  # (batch,) int64
    # The same keys over uniformly random plaintext (two-pass models with table keys): pass
    # 2 learns to apply a key from these, where no language prior can stand in for it.
    uniform: Batch | None = None

    def to(self, device: torch.device) -> Batch:
        # lengths stay on the CPU: pack_padded_sequence wants them there.
        def move(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t.to(device)

        return Batch(
            self.inputs.to(device),
            self.targets.to(device),
            self.lengths,
            self.reset_state,
            move(self.keys),
            move(self.key_lengths),
            None if self.uniform is None else self.uniform.to(device),
        )

    def take_rows(self, rows: slice) -> Batch:
        """The rows `rows` of every per-row field: one data-parallel rank's share of a step,
        or one piece of a long evaluation."""

        def part(t: torch.Tensor | None) -> torch.Tensor | None:
            return None if t is None else t[rows]

        return Batch(
            self.inputs[rows],
            self.targets[rows],
            part(self.lengths),
            self.reset_state,
            part(self.keys),
            part(self.key_lengths),
            None if self.uniform is None else self.uniform.take_rows(rows),
        )

    @property
    def num_targets(self) -> int:
        return int((self.targets != IGNORE_INDEX).sum())
