"""Training curves from metrics.jsonl, drawn with matplotlib."""

from __future__ import annotations

from pathlib import Path

from rnnlab import checkpoint as ckpt
from rnnlab.errors import UserError
from rnnlab.io import atomic_write


def plot_metrics(directory: str | Path, output: str | Path | None = None) -> Path:
    directory = Path(directory)
    ckpt.read_config(directory)  # a clear error when DIR is not a checkpoint
    path = directory / ckpt.METRICS
    if not path.exists():
        raise UserError(f"{directory}: no {ckpt.METRICS} to plot")
    records = ckpt.read_metrics(path)
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only; no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("plotting needs matplotlib: pip install 'rnnlab[plot]'") from None

    splits = {s: [r for r in records if r.get("split") == s] for s in ("train", "val")}
    has_acc = any("accuracy" in r for r in records)
    fig, axes = plt.subplots(1, 2 if has_acc else 1, figsize=(11 if has_acc else 6, 4))
    axes = list(axes) if has_acc else [axes]
    _plot_splits(axes[0], splits, "loss")
    axes[0].set(xlabel="step", ylabel="loss (nats/char)", title="loss")
    if has_acc:
        _plot_splits(axes[1], splits, "accuracy")
        axes[1].set(xlabel="step", ylabel="character accuracy", title="accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(str(directory))
    fig.tight_layout()
    out = Path(output) if output else directory / "metrics.png"
    # Written to a temporary file and renamed over `out`: a link standing at `out` is
    # replaced, and whatever it pointed to is left alone.
    atomic_write(out, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)
    return out


def _plot_splits(ax, splits: dict[str, list[dict]], key: str) -> None:
    for split, rows in splits.items():
        rows = [r for r in rows if key in r]
        if rows:
            marker = "o" if split == "val" else None  # few points: mark them
            ax.plot([r["step"] for r in rows], [r[key] for r in rows], label=split, marker=marker)
