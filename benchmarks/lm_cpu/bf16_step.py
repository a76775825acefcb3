"""How much faster a training step is under CPU bf16 autocast, outside the trainer.

Two models, each timed in fp32 and bf16 turns in one process (forward, backward, AdamW;
batch 32 x seq 50, default torch threads): a bare 2 x 256 `torch.nn.LSTM` with an embedding
and a head, and rnnlab's CharLM of the CPU preset (tied, dropout 0.2) with its state carried
between steps, as the trainer does. The median step of each over the turns.

    python benchmarks/lm_cpu/bf16_step.py --out benchmarks/lm_cpu/results-bf16-step.json
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from report import emit, machine
from torch import nn

from rnnlab.models.charlm import CharLM, CharLMConfig
from rnnlab.train.precision import autocast, cpu_has_native_bf16

BATCH, SEQ, VOCAB, HIDDEN = 32, 50, 65, 256
CPU = torch.device("cpu")


class BareLSTM(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(VOCAB, HIDDEN)
        self.rnn = nn.LSTM(HIDDEN, HIDDEN, 2, batch_first=True, dropout=0.2)
        self.head = nn.Linear(HIDDEN, VOCAB)

    def forward(self, ids, state=None):
        out, state = self.rnn(self.embed(ids), state)
        return self.head(out), state


def step_time(model: nn.Module, precision: str, steps: int) -> float:
    """Seconds per step, state carried between steps, after 5 warm-up steps."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randint(0, VOCAB, (BATCH, SEQ))
    y = torch.randint(0, VOCAB, (BATCH, SEQ))
    state = None
    for i in range(5 + steps):
        if i == 5:
            started = time.perf_counter()
        with autocast(precision, CPU):
            logits, state = model(x, state)
            loss = nn.functional.cross_entropy(logits.float().reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        state = tuple(s.detach() for s in state)
    return (time.perf_counter() - started) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.manual_seed(0)
    models = {
        "bare torch.nn.LSTM": BareLSTM(),
        "rnnlab CharLM (cpu preset)": CharLM(
            CharLMConfig(
                vocab_size=VOCAB, hidden=HIDDEN, embedding=HIDDEN, dropout=0.2, tie_weights=True
            )
        ),
    }
    times: dict[str, dict[str, list[float]]] = {m: {"fp32": [], "bf16": []} for m in models}
    for _ in range(args.turns):
        for name, model in models.items():
            for precision in ("fp32", "bf16"):
                times[name][precision].append(step_time(model, precision, args.steps))
    rows = []
    for name, by_precision in times.items():
        med = {p: statistics.median(t) for p, t in by_precision.items()}
        rows.append(
            {
                "model": name,
                **{f"{p}_chars_per_s": round(BATCH * SEQ / t) for p, t in med.items()},
                "bf16_speedup": round(med["fp32"] / med["bf16"], 2),
                "step_ms_per_turn": {
                    p: [round(t * 1e3, 1) for t in ts] for p, ts in by_precision.items()
                },
            }
        )
    result = {
        "machine": machine(native_bf16=cpu_has_native_bf16()),
        "batch": BATCH,
        "seq_len": SEQ,
        "rows": rows,
    }
    emit(result, args.out)


if __name__ == "__main__":
    main()
