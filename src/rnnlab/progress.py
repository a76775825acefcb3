"""Progress display for training: a tqdm bar on stderr, evaluation lines on stdout."""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

from rnnlab.train import Callbacks


def percent(x: float) -> str:
    return f"{100 * x:.2f}%"


class TrainingProgress(Callbacks):
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bar: tqdm | None = None

    def on_start(self, start_step: int, total_steps: int) -> None:
        # disable=None hides the bar when stderr is not a terminal (CI logs, pipes).
        self.bar = tqdm(
            total=total_steps,
            initial=start_step,
            unit="step",
            dynamic_ncols=True,
            disable=True if self.quiet else None,
            leave=False,
        )

    def on_step(self, step: int) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def on_log(self, record: dict[str, Any]) -> None:
        if self.bar is None:
            return
        postfix = {"loss": f"{record['loss']:.4f}"}
        if "accuracy" in record:
            postfix["acc"] = percent(record["accuracy"])
        self.bar.set_postfix(postfix, refresh=False)

    def on_eval(self, record: dict[str, Any]) -> None:
        if self.quiet:
            return
        parts = [f"step {record['step']:>6}", f"val loss {record['loss']:.4f}"]
        if "accuracy" in record:
            parts.append(f"char acc {percent(record['accuracy'])}")
        if "message_accuracy" in record:
            parts.append(f"message acc {percent(record['message_accuracy'])}")
        if "key_accuracy" in record:  # two-pass models: keys named exactly
            parts.append(f"key named {percent(record['key_accuracy'])}")
        tqdm.write("  ".join(parts))

    def on_note(self, text: str) -> None:
        tqdm.write(f"note: {text}", file=sys.stderr)

    def on_end(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
