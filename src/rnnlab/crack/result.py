"""What every attack returns, and the time budget they share."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class AttackResult:
    cipher: str  # registry name of the family
    key: Any  # canonical key, as `rnnlab cipher decrypt --key` takes it
    plain_ids: np.ndarray  # recovered letters, 0..25
    score: float  # total n-gram log-probability (nats) of the plaintext letters
    per_letter: float  # score per scored letter; English text ~ -2.1 with the shipped model
    method: str = "classical"
    details: dict[str, Any] = field(default_factory=dict)


class Deadline:
    """A wall-clock budget: searches check it between restarts and candidate periods."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def left(self) -> float:
        return float("inf") if self.seconds is None else self.seconds - self.elapsed()

    def expired(self) -> bool:
        return self.left() <= 0
