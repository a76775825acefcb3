"""Training started from the page: one job at a time, in a thread of its own, through the
same `decipher.train` / `lm.train` the CLI calls.

The job keeps every record the Trainer logs as it logs it, so the page can draw the curve
live: metrics.jsonl only receives them at each save. A stop request is answered by the
Trainer's `should_stop` hook after the current step: it saves and ends the run exactly as
Ctrl-C does, and `--resume` continues it.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from rnnlab.errors import UserError
from rnnlab.options import DECLARATIONS
from rnnlab.serve.runs import RunStore
from rnnlab.train import Callbacks, Interrupted

log = logging.getLogger("rnnlab.serve")

STOP_WAIT_S = 120.0  # a stop returns once the run is saved; one step plus a save is far less


class Conflict(UserError):
    """Not now: a job is already running, or the one to stop is not: answered 409."""


class JobCallbacks(Callbacks):
    def __init__(self, job: Job) -> None:
        self.job = job

    def on_start(self, start_step: int, total_steps: int | None) -> None:
        self.job.total_steps = total_steps

    def on_step(self, step: int) -> None:
        self.job.step = step

    def on_log(self, record: dict[str, Any]) -> None:
        self.job.records.append(dict(record))

    def on_eval(self, record: dict[str, Any]) -> None:
        self.job.records.append(dict(record))

    def should_stop(self) -> bool:
        return self.job.stop_requested.is_set()


class Job:
    def __init__(self, name: str, task: str, run: Any, out: Any) -> None:
        self.name, self.task, self.run, self.out = name, task, run, out
        self.state = "running"  # running | done | stopped | failed
        self.error: str | None = None
        self.step = 0
        self.total_steps: int | None = None
        self.records: list[dict[str, Any]] = []
        self.started = time.time()
        self.stop_requested = threading.Event()
        self.thread = threading.Thread(target=self._train, name=f"train-{name}", daemon=True)

    @property
    def running(self) -> bool:
        return self.state == "running"

    def status(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "task": self.task,
            "state": self.state,
            "step": self.step,
            "steps": self.total_steps,
            "error": self.error,
            "elapsed_s": round(time.time() - self.started, 1),
        }

    def _train(self) -> None:
        if self.task == "decipher":
            from rnnlab.decipher import train
        else:
            from rnnlab.lm import train
        try:
            train(self.run, self.out, callbacks=JobCallbacks(self))
            self.state = "done"
        except Interrupted:
            self.state = "stopped"
        except UserError as e:
            self.error, self.state = str(e), "failed"
        except Exception as e:  # a bug: say so on the page, keep the traceback in the log
            log.exception("training job %s failed", self.name)
            self.error, self.state = f"internal error ({type(e).__name__}: {e})", "failed"


class JobManager:
    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.job: Job | None = None  # the running one, or the last one
        self._lock = threading.Lock()

    def start(self, task: str, options: dict[str, Any]) -> Job:
        """Check the options, then train in a thread; refuses while a job is running."""
        run, base = build_run(task, options)
        with self._lock:
            if self.job is not None and self.job.running:
                raise Conflict(f"run {self.job.name!r} is training; stop it or wait for it")
            name = self.store.fresh_name(base)
            self.job = Job(name, task, run, self.store.root / name)
            self.job.thread.start()
        return self.job

    def get(self, name: str) -> Job | None:
        job = self.job
        return job if job is not None and job.name == name else None

    def stop(self, name: str) -> Job:
        job = self.get(name)
        if job is None or not job.running:
            raise Conflict(f"run {name!r} is not training")
        job.stop_requested.set()
        job.thread.join(STOP_WAIT_S)  # called in a worker thread, not on the event loop
        return job

    def shutdown(self) -> None:
        """On server exit: a running job saves and stops, as with Ctrl-C."""
        job = self.job
        if job is not None and job.running:
            job.stop_requested.set()
            job.thread.join(STOP_WAIT_S)


def check(task: str, options: dict[str, Any]) -> dict[str, Any]:
    """What the options would train, without training it: the context their defaults
    depend on (decipher: the architecture; lm: the preset), or the UserError building the
    run would raise. The page asks this as the user chooses, so that it shows the right
    defaults and every mistake before anything starts."""
    run, _ = build_run(task, options)
    if task == "decipher":
        return {"architecture": run.architecture, "key_mode": run.data.key_mode}
    from rnnlab import lm

    return {"preset": lm.preset_of(DECLARATIONS["lm"].check(options))}


def build_run(task: str, options: dict[str, Any]) -> tuple[Any, str]:
    """The run the options ask for (through the library's own `build_run`) and the base
    of its directory name, as `rnnlab … train` names it."""
    declaration = DECLARATIONS.get(task)
    if declaration is None:
        raise UserError(f"unknown task {task!r}; use decipher or lm")
    refused = sorted(o.name for o in declaration if o.file and options.get(o.name) is not None)
    if refused:
        raise UserError(f"`{refused[0]}` names a file: that is for the command line")
    for option in declaration:
        value = options.get(option.name)
        if option.web_choices and value is not None and value not in option.web_choices:
            raise UserError(f"`{option.name}` must be one of {', '.join(option.web_choices)} here")
    checked = declaration.check(options)
    if task == "decipher":
        from rnnlab import decipher

        run = decipher.build_run(checked)
        return run, f"decipher-{run.data.cipher}"
    from rnnlab import lm

    return lm.build_run(checked), "lm-tinyshakespeare"
