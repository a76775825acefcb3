"""What the routes share: the runs, the training job and the worker pools."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from rnnlab.serve.jobs import JobManager
from rnnlab.serve.limits import WorkerPool
from rnnlab.serve.runs import RunStore


def default_workers() -> int:
    # The model work is mostly torch, which already spreads one call over the cores; more
    # threads than cores only make each request slower.
    return max(1, min(4, os.cpu_count() or 1))


@dataclass
class ServeState:
    store: RunStore
    jobs: JobManager
    # crack, decrypt and sample: the CPU-heavy calls
    heavy: WorkerPool = field(default_factory=lambda: WorkerPool("model", default_workers(), 32))
    # cipher calls and reading run directories: quick, but still off the event loop
    light: WorkerPool = field(default_factory=lambda: WorkerPool("light", 4, 64))

    @classmethod
    def for_runs(cls, runs: str | Path, **pools: WorkerPool) -> ServeState:
        store = RunStore(runs)
        return cls(store, JobManager(store), **pools)

    def close(self) -> None:
        self.jobs.shutdown()
        self.heavy.shutdown()
        self.light.shutdown()


def get_state(request: Request) -> ServeState:
    return request.app.state.serve


# A route's parameter `st: State` receives the app's ServeState.
State = Annotated[ServeState, Depends(get_state)]
