"""Throughput of rnnlab's recurrent layers against torch.nn's, and against the machine.

Every number is a ratio taken in one process with the repetitions interleaved (torch,
then each rnnlab impl, then torch again, ...) and the median kept: on a shared, noisy
machine only that survives. Three kinds of row:

- model x impl on fixed cases: Embedding -> RNN -> Linear, one training step (forward,
  cross-entropy, backward, Adam) or one inference forward; `ratio_vs_torch` against the
  same model with impl="torch" (raw torch.nn: cuDNN / oneDNN);
- elman-seed: seed 003's ElmanRNN loop as the seed writes it, against torch.nn.RNN;
- lm-train-path: rnnlab's whole training path (LM task batches, CharLM, Trainer with its
  AdamW, clipping and TBPTT state) against a bare torch.nn.LSTM loop of the same maths.

`flop_fraction` is the model's matmul FLOP/s over the FLOP/s of one float32 GEMM of the
case's input-projection shape, measured at start: how far from the machine's matmul
ceiling each path runs (nanoGPT's MFU, for RNNs).
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab import nn as rnn
from rnnlab.device import resolve_device
from rnnlab.errors import UserError
from rnnlab.train.precision import autocast as autocast_for
from rnnlab.train.precision import resolve_precision

MODELS = ("lstm", "gru", "elman")
GATES = {"lstm": 4, "gru": 3, "elman": 1}


@dataclass(frozen=True)
class Case:
    name: str
    hidden: int
    layers: int
    batch: int
    seq: int
    vocab: int
    embedding: int
    bidirectional: bool = False
    impls: tuple[str, ...] = ("torch", "scratch", "compiled")


# The language model of the issue, a small one, and the decipher tagger (seed 000's shape).
CASES = {
    "lm": Case("lm", hidden=512, layers=2, batch=64, seq=100, vocab=65, embedding=512),
    "small": Case("small", hidden=128, layers=1, batch=64, seq=100, vocab=65, embedding=128),
    "decipher": Case("decipher", hidden=128, layers=1, batch=64, seq=32, vocab=27, embedding=32),
}
# A case small enough for tests: the whole harness in about a second.
QUICK = Case("quick", hidden=8, layers=1, batch=2, seq=5, vocab=11, embedding=4)


class Tagger(nn.Module):
    """Embedding -> rnnlab.nn RNN -> Linear: CharLM's and the Decipherer's shape."""

    def __init__(self, case: Case, model: str, impl: str, seed_elman: bool = False) -> None:
        super().__init__()
        self.embed = nn.Embedding(case.vocab, case.embedding)
        if seed_elman:
            self.rnn = rnn.ElmanRNN(case.embedding, case.hidden, case.layers, impl="scratch")
        else:
            cls = {"lstm": rnn.LSTM, "gru": rnn.GRU, "elman": rnn.RNN}[model]
            self.rnn = cls(
                case.embedding,
                case.hidden,
                case.layers,
                batch_first=True,
                bidirectional=case.bidirectional,
                impl=impl,
            )
        self.head = nn.Linear(case.hidden * (2 if case.bidirectional else 1), case.vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embed(ids))
        return self.head(out)


def flops_per_char(case: Case, model: str) -> float:
    """Forward matmul FLOPs per character: gates x (input + recurrent) per layer and
    direction, plus the output layer. Training is counted as 3x (backward ~2x forward)."""
    directions = 2 if case.bidirectional else 1
    total = 0.0
    for layer in range(case.layers):
        inp = case.embedding if layer == 0 else case.hidden * directions
        total += directions * 2 * GATES[model] * case.hidden * (inp + case.hidden)
    return total + 2 * case.hidden * directions * case.vocab


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(fn: Callable[[], Any], device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def matmul_flops(case: Case, device: torch.device, reps: int = 3) -> float:
    """FLOP/s of a float32 GEMM shaped like the case's input projection (all steps at
    once): the best this machine does on the matrix multiplies an RNN is made of."""
    m, k, n = case.batch * case.seq, case.hidden, 4 * case.hidden
    a = torch.randn(m, k, device=device)
    b = torch.randn(k, n, device=device)
    a @ b  # warm-up
    best = min(timed(lambda: a @ b, device) for _ in range(reps))
    return 2 * m * k * n / best


def interleaved(candidates: dict[str, Callable[[], Any]], reps: int, device) -> dict[str, float]:
    """Median seconds per call of each candidate, the repetitions taken round-robin."""
    for fn in candidates.values():  # warm-up: allocator, first-call set-up
        fn()
    times: dict[str, list[float]] = {k: [] for k in candidates}
    for _ in range(reps):
        for name, fn in candidates.items():
            times[name].append(timed(fn, device))
    return {k: statistics.median(v) for k, v in times.items()}


def step_fns(model: nn.Module, ids: torch.Tensor, autocast) -> dict[str, Callable[[], Any]]:
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    targets = torch.roll(ids, -1, dims=1)

    def train() -> None:
        model.train()
        with autocast():
            logits = model(ids)
            loss = F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def infer() -> None:
        model.eval()
        with torch.no_grad(), autocast():
            model(ids)

    return {"train": train, "infer": infer}


def bench_case(
    case: Case,
    device: torch.device,
    reps: int,
    peak: float,
    autocast,
    models: tuple[str, ...] = MODELS,
) -> list[dict[str, Any]]:
    rows = []
    ids = torch.randint(0, case.vocab, (case.batch, case.seq), device=device)
    chars = case.batch * case.seq
    for model_name in models:
        variants = {impl: Tagger(case, model_name, impl) for impl in case.impls}
        if model_name == "elman":
            variants["seed"] = Tagger(case, "elman", "scratch", seed_elman=True)
        for mode in ("train", "infer"):
            candidates = {}
            for name, m in variants.items():
                torch.manual_seed(0)
                candidates[name] = step_fns(m.to(device), ids, autocast)[mode]
            seconds = interleaved(candidates, reps, device)
            flops = flops_per_char(case, model_name) * (3 if mode == "train" else 1)
            for name, s in seconds.items():
                rows.append(
                    {
                        "case": case.name,
                        "model": "elman-seed" if name == "seed" else model_name,
                        "impl": "scratch" if name == "seed" else name,
                        "mode": mode,
                        "chars_per_s": round(chars / s, 1),
                        "ratio_vs_torch": round(seconds["torch"] / s, 3),
                        "flop_fraction": round(chars / s * flops / peak, 4),
                        "step_ms": round(s * 1000, 2),
                    }
                )
    return rows


# -- rnnlab's whole LM training path vs a bare loop ------------------------------------


def bare_lstm_loop(case: Case, device: torch.device, ids: torch.Tensor) -> Callable[[], None]:
    """The loop a person writes from pytorch/examples: Embedding -> torch.nn.LSTM ->
    Linear, AdamW, clipping, the state detached between batches. Same maths as rnnlab's
    CharLM + Trainer with the settings `lm_train_path` gives it."""
    torch.manual_seed(0)
    embed = nn.Embedding(case.vocab, case.embedding).to(device)
    lstm = nn.LSTM(case.embedding, case.hidden, case.layers, batch_first=True).to(device)
    head = nn.Linear(case.hidden, case.vocab).to(device)
    params = [*embed.parameters(), *lstm.parameters(), *head.parameters()]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.01)
    rows = ids.view(case.batch, -1)
    state = [None, 0]

    def step() -> None:
        pos = state[1]
        if pos + case.seq + 1 > rows.shape[1]:
            pos, state[0] = 0, None
        x, y = rows[:, pos : pos + case.seq], rows[:, pos + 1 : pos + case.seq + 1]
        out, hidden = lstm(embed(x), state[0])
        state[0] = tuple(h.detach() for h in hidden)
        state[1] = pos + case.seq
        loss = F.cross_entropy(head(out).flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    return step


def lm_train_path(case: Case, device: torch.device, reps: int, peak: float) -> list[dict]:
    """rnnlab's default LM training (data, CharLM impl=torch, loss, Trainer) timed by the
    Trainer's own training clock, interleaved with the bare loop, on the same shapes."""
    from rnnlab import lm
    from rnnlab.data.corpus import load_corpus
    from rnnlab.models.charlm import CharLM
    from rnnlab.train import Trainer

    corpus = load_corpus()
    overrides = dict(
        hidden=case.hidden,
        embedding=case.embedding,
        layers=case.layers,
        dropout=0.0,
        tie_weights=False,
        seq_len=case.seq,
        batch_size=case.batch,
        lr=1e-3,
        schedule="constant",
        warmup=0,
        device=device.type,
        steps=1,
    )
    run = lm.build_run({"preset": "cpu", **overrides})
    run.data.eval_max_chars = 2 * case.seq  # the timed part is training; eval stays tiny
    run.model.vocab_size = len(corpus.vocab)
    vocab_case = replace(case, vocab=len(corpus.vocab))
    torch.manual_seed(0)
    model = CharLM(run.model)
    task = lm.LMTask(corpus, run.data, case.batch)
    ids = torch.as_tensor(corpus.train.ids[: case.batch * (case.seq * 8 + 1)].astype("int64"))
    bare = bare_lstm_loop(vocab_case, device, ids.to(device))
    with tempfile.TemporaryDirectory() as tmp:
        train_cfg = replace(run.train, steps=1, eval_every=10**9, log_every=10**9)
        trainer = Trainer(model, task, train_cfg, tmp, {"task": "bench"})

        def rnnlab_step() -> None:
            trainer.config = replace(trainer.config, steps=trainer.step + 1)
            trainer.fit()

        # the Trainer's clock leaves out its end-of-run eval and save: read it directly
        def rnnlab_timed() -> float:
            before = trainer.elapsed_s
            rnnlab_step()
            return trainer.elapsed_s - before

        rnnlab_step()
        bare()
        times: dict[str, list[float]] = {"torch": [], "rnnlab": []}
        for _ in range(reps):
            times["torch"].append(timed(bare, device))
            times["rnnlab"].append(rnnlab_timed())
    med = {k: statistics.median(v) for k, v in times.items()}
    chars = case.batch * case.seq
    flops = 3 * flops_per_char(vocab_case, "lstm")
    return [
        {
            "case": "lm-train-path",
            "model": "lstm",
            "impl": "torch" if name == "torch" else "rnnlab-default",
            "mode": "train",
            "chars_per_s": round(chars / s, 1),
            "ratio_vs_torch": round(med["torch"] / s, 3),
            "flop_fraction": round(chars / s * flops / peak, 4),
            "step_ms": round(s * 1000, 2),
        }
        for name, s in med.items()
    ]


# -- the whole run ---------------------------------------------------------------------


def describe_machine(device: torch.device) -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


def run(
    device: str = "cpu",
    cases: list[str] | None = None,
    reps: int = 3,
    precision: str = "fp32",
    quick: bool = False,
    train_path: bool = True,
    threads: int | None = None,
) -> dict[str, Any]:
    """All rows, the machine and the measured GEMM peak per case, as one dict.

    `threads`: torch's CPU threads for the run. On a machine whose cores are busy with
    other work, fewer threads than cores measures better: every parallel region (each op,
    each time step) waits for all its threads to be scheduled, which on a 2-core machine
    with one core taken costs a scheduler time slice per op (see benchmarks/bench)."""
    dev = resolve_device(device)
    if threads is not None:
        if threads < 1:
            raise UserError(f"--threads must be at least 1, got {threads}")
        torch.set_num_threads(threads)
    precision = resolve_precision(precision, dev)

    def autocast():
        return autocast_for(precision, dev)

    if quick:
        selected = [QUICK]
    else:
        names = cases or list(CASES)
        unknown = [n for n in names if n not in CASES]
        if unknown:
            raise UserError(f"unknown case {unknown[0]!r}; choose from {', '.join(CASES)}")
        selected = [CASES[n] for n in names]
    if dev.type == "cpu" and not quick and cases is None:
        # The Python-loop reference costs ~5x torch on the 2 x 512 case; leaving it out
        # there keeps the default CPU run within a minute (ask for it with --case lm).
        selected = [
            replace(c, impls=("torch", "compiled")) if c.name == "lm" else c for c in selected
        ]
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    peaks: dict[str, float] = {}
    for case in selected:
        peaks[case.name] = matmul_flops(case, dev)
        rows += bench_case(case, dev, reps, peaks[case.name], autocast)
    if train_path and not quick and "lm" in [c.name for c in selected]:
        rows += lm_train_path(CASES["lm"], dev, reps, peaks["lm"])
    return {
        "machine": describe_machine(dev),
        "precision": precision,
        "reps": reps,
        "matmul_flops": {k: round(v) for k, v in peaks.items()},
        "seconds": round(time.perf_counter() - started, 1),
        "rows": rows,
    }


def format_table(result: dict[str, Any]) -> str:
    lines = [
        f"{'case':<14}{'model':<11}{'impl':<15}{'mode':<6}{'chars/s':>12}"
        f"{'vs torch':>10}{'of peak':>9}"
    ]
    for r in result["rows"]:
        lines.append(
            f"{r['case']:<14}{r['model']:<11}{r['impl']:<15}{r['mode']:<6}"
            f"{r['chars_per_s']:>12,.0f}{r['ratio_vs_torch']:>9.2f}x"
            f"{100 * r['flop_fraction']:>8.1f}%"
        )
    m = result["machine"]
    where = m.get("gpu", f"{m['cpu']}, {m['torch_threads']} threads")
    lines.append(
        f"({where}; torch {m['torch']}; {result['precision']}; "
        f"median of {result['reps']}; {result['seconds']} s)"
    )
    return "\n".join(lines)
