"""The run directories under `--runs`: found by name strictly inside it, summarised for the
list, their metrics read, their models loaded once and kept while their weights are
unchanged."""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from rnnlab import checkpoint as ckpt
from rnnlab.errors import UserError

# A run is a direct child of --runs, as `decipher train` and `lm train` write them. Its name
# is one path component of ordinary characters: no separators, no leading dot (so neither
# '..' nor hidden directories).
NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
CACHED_MODELS = 8


class NotFound(UserError):
    """An unknown run: answered 404."""


class RunStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).absolute()
        self._models: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()

    # -- names -> directories ----------------------------------------------------------

    def path(self, name: str, must_exist: bool = True) -> Path:
        """The directory of run `name`, refusing anything that would leave --runs: a name
        with a separator or '..', an absolute path, or a symlink pointing outside."""
        if not NAME.fullmatch(name):
            raise NotFound(f"no run named {name!r} (a run name is one directory under --runs)")
        root = self.root.resolve()
        path = root / name
        if not inside(path, root):
            raise NotFound(f"run {name!r} is a link out of the runs directory; refused")
        if must_exist and not (path.is_dir() and ckpt.is_checkpoint(path)):
            raise NotFound(f"no run named {name!r} in {self.root}")
        for file in (
            ckpt.CONFIG,
            ckpt.WEIGHTS,
            ckpt.BEST_WEIGHTS,
            ckpt.AVERAGE_WEIGHTS,
            ckpt.METRICS,
        ):
            if not inside(path / file, path.resolve()):
                raise NotFound(f"run {name!r}: {file} links out of the run; refused")
        return path

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        found = []
        for p in sorted(self.root.iterdir()):
            try:
                found.append(self.path(p.name).name)
            except NotFound:  # not a run, or a link out of --runs: not listed either
                continue
        return found

    def fresh_name(self, base: str) -> str:
        """`base`, or `base-2`, `base-3`, … : the first with no directory yet."""
        name, n = base, 2
        while (self.root / name).exists():
            name, n = f"{base}-{n}", n + 1
        return name

    # -- what a run holds ----------------------------------------------------------------

    def config(self, name: str) -> dict[str, Any]:
        return ckpt.read_config(self.path(name))

    def metrics(self, name: str) -> list[dict[str, Any]]:
        path = self.path(name) / ckpt.METRICS
        return ckpt.read_metrics(path) if path.exists() else []

    def summary(self, name: str) -> dict[str, Any]:
        """One row of the run list: what it is, how big, how far, how good."""
        path = self.path(name)
        config = ckpt.read_config(path)
        row = {"name": name, **describe(config), **progress(config, self.metrics(name))}
        weights = path / ckpt.WEIGHTS
        if not row["step"] and weights.exists():  # no metrics.jsonl: the weights say the step
            row["step"] = ckpt.weights_step(path) or 0
        return row | {"parameters": count_parameters(weights)}

    # -- models --------------------------------------------------------------------------

    def load(self, name: str, task: str) -> Any:
        """The loaded model of run `name` (a LoadedDecipherer or LoadedLM), from the cache
        while its weights file is unchanged: a run still training is reloaded after each
        save. Called from worker threads."""
        path = self.path(name)
        config = ckpt.read_config(path)
        if config.get("task") != task:
            raise UserError(f"run {name!r} is a {config.get('task')!r} run, not a {task!r} run")
        weights = path / ckpt.WEIGHTS
        stamp = weights.stat() if weights.exists() else None
        key = (str(path), task, stamp and (stamp.st_mtime_ns, stamp.st_size))
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key]
        if task == "decipher":
            from rnnlab import decipher

            loaded = decipher.load(path, device="cpu")
        else:
            from rnnlab import lm

            loaded = lm.load(path, device="cpu")
        with self._lock:
            self._models[key] = loaded
            while len(self._models) > CACHED_MODELS:
                self._models.popitem(last=False)
        return loaded


def inside(path: Path, root: Path) -> bool:
    """Whether `path`, followed through any symlinks, stays under `root`."""
    if not path.is_symlink():
        return True
    try:
        return path.resolve(strict=False).is_relative_to(root)
    except (OSError, RuntimeError):  # a symlink loop
        return False


def describe(config: dict[str, Any]) -> dict[str, Any]:
    """Task, architecture and a short size line from a config.json."""
    model = config.get("model", {})
    task = config.get("task")
    out: dict[str, Any] = {"task": task}
    if task == "decipher":
        data = config.get("data", {})
        out["architecture"] = config.get("architecture", "tagger")
        out["key_mode"] = data.get("key_mode", "fixed")
        spec = data.get("cipher_spec") or {}
        out["cipher"] = spec.get("name") or data.get("cipher")
        out["needs_key"] = out["key_mode"] == "given"
        out["names_key"] = out["architecture"] == "twopass"
    else:
        out["architecture"] = "charlm"
    kind = model.get("model", "lstm")
    hidden = model.get("hidden", model.get("reader_hidden"))
    layers = model.get("layers", model.get("reader_layers", 1))
    out["size"] = f"{kind}, hidden {hidden}, {layers} layer{'s' if layers != 1 else ''}"
    return out


def progress(config: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The last step and the best validation metric: accuracy for a decipher run (higher is
    better), bits per character for a language model (lower is better)."""
    steps = config.get("train", {}).get("steps")
    val = [r for r in rows if r.get("split") == "val"]
    last = max((r.get("step", 0) for r in rows), default=0)
    out: dict[str, Any] = {"step": last, "steps": steps, "best": None}
    if config.get("task") == "lm":
        scored = [r for r in val if "bpc" in r]
        if scored:
            best = min(scored, key=lambda r: r["bpc"])
            out["best"] = {"metric": "bpc", "value": best["bpc"], "step": best["step"]}
    else:
        scored = [r for r in val if "accuracy" in r]
        if scored:
            best = max(scored, key=lambda r: r["accuracy"])
            out["best"] = {"metric": "accuracy", "value": best["accuracy"], "step": best["step"]}
    return out


def count_parameters(weights: Path) -> int | None:
    """From the safetensors header alone (shapes), without loading a tensor."""
    if not weights.exists():
        return None
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), framework="pt") as f:
            names = f.keys()
            return sum(math.prod(f.get_slice(k).get_shape()) for k in names)
    except (SafetensorError, OSError):
        return None
