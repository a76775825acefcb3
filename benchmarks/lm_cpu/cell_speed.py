"""Training speed of the recurrent cells a character LM can use, on a CPU, in one run.

Each model is the LM of benchmarks/lm_cpu: an embedding (vocab 65 -> 256), a 2 x 256
recurrent stack, a linear head; one training step is forward, cross-entropy, backward and
an AdamW step on a (64, 50) batch. The cells are timed in turns — a few steps of each, then
round again — so that a change in the machine's load hits them all alike; the reported time
per step is each cell's median over the rounds. Rates are characters (batch x seq) a second,
and the ratio is to torch.nn.LSTM's rate in the same run (> 1: faster).

    python benchmarks/lm_cpu/cell_speed.py                # 1 thread, a table
    python benchmarks/lm_cpu/cell_speed.py --json         # the same as one JSON object
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from rnnlab import nn as rnn

CELLS: dict[str, Callable[[int, int, int], nn.Module]] = {
    "torch.nn.LSTM": lambda i, h, n: nn.LSTM(i, h, n, batch_first=True),
    "rnnlab.nn.LSTM compiled": lambda i, h, n: rnn.LSTM(i, h, n, batch_first=True, impl="compiled"),
    "MogrifierLSTM r=5": lambda i, h, n: rnn.MogrifierLSTM(i, h, n, rounds=5),
    "LayerNormLSTM": lambda i, h, n: rnn.LayerNormLSTM(i, h, n),
}


class LM(nn.Module):
    def __init__(self, cell: nn.Module, vocab: int, embedding: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, embedding)
        self.rnn = cell
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(self.embed(ids))
        return self.head(out)


def gemm_work(cell: nn.Module) -> float:
    """Multiply-adds of the recurrent stack's matrix products per character (batch row x
    step), forward only (the backward pass does about twice as many, for every cell). The
    mogrifier adds `rounds` (in x H) products to the LSTM's (in + H) x 4H per layer, so on a
    compute-bound CPU its rate can at best be the LSTM's times the inverse of this ratio."""
    hidden, total = cell.hidden_size, 0.0
    for layer in range(cell.num_layers):
        size = cell.input_size if layer == 0 else hidden
        total += (size + hidden) * 4 * hidden + getattr(cell, "rounds", 0) * size * hidden
    return total


def make_step(model: LM, batch: int, seq: int, vocab: int) -> Callable[[], None]:
    ids = torch.randint(0, vocab, (batch, seq + 1), generator=torch.Generator().manual_seed(0))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def step() -> None:
        logits = model(ids[:, :-1])
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="turns over all the cells")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per cell per turn")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--embedding", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--vocab", type=int, default=65, help="Tiny Shakespeare's 65")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    steps, work = {}, {}
    for name, build in CELLS.items():
        cell = build(args.embedding, args.hidden, args.layers)
        work[name] = gemm_work(cell)
        model = LM(cell, args.vocab, args.embedding, args.hidden)
        steps[name] = make_step(model, args.batch_size, args.seq_len, args.vocab)
        steps[name]()  # warm-up: allocations, oneDNN's first-call setup
    load_before = os.getloadavg()
    times: dict[str, list[float]] = {name: [] for name in CELLS}
    for _ in range(args.rounds):
        for name, step in steps.items():
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            times[name].append((time.perf_counter() - t0) / args.steps)
    load_after = os.getloadavg()

    chars = args.batch_size * args.seq_len
    base = chars / statistics.median(times["torch.nn.LSTM"])
    rows = []
    for name, ts in times.items():
        rate = chars / statistics.median(ts)
        rows.append(
            {
                "cell": name,
                "step_ms_median": 1000 * statistics.median(ts),
                "step_ms_per_round": [round(1000 * t, 1) for t in ts],
                "chars_per_s": rate,
                "ratio_to_torch_lstm": rate / base,
                "gemm_work_vs_torch_lstm": work[name] / work["torch.nn.LSTM"],
            }
        )
    result = {
        "config": vars(args) | {"json": None},
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch": torch.__version__,
            "loadavg_1m_before_after": [load_before[0], load_after[0]],
        },
        "cells": rows,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"{args.layers}x{args.hidden}, batch {args.batch_size} x seq {args.seq_len}, "
        f"{args.threads} thread(s), load {load_before[0]:.2f} -> {load_after[0]:.2f}"
    )
    for r in rows:
        print(
            f"{r['cell']:26s} {r['step_ms_median']:8.1f} ms/step {r['chars_per_s']:9.0f} chars/s"
            f"  x{r['ratio_to_torch_lstm']:.2f}  (GEMM work x{r['gemm_work_vs_torch_lstm']:.2f})"
        )


if __name__ == "__main__":
    main()
