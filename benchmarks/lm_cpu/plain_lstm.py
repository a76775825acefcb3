"""The reference rnnlab's CPU default is measured against: a plain character LSTM loop.

2 x 256 torch.nn.LSTM with an embedding, AdamW, a cosine schedule, the hidden state
carried between batches (truncated BPTT), no dropout — the loop a person would write from
pytorch/examples' word_language_model. It trains on the shipped Tiny Shakespeare for
--minutes of training time, then reports validation loss with the same evaluation
`rnnlab lm eval` uses (16 columns, state carried), so the numbers compare directly.

    python benchmarks/lm_cpu/plain_lstm.py --minutes 10
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch
from torch import nn

from rnnlab.data.corpus import load_corpus
from rnnlab.lm import evaluate_ids


class PlainLSTM(nn.Module):
    def __init__(self, vocab: int, hidden: int = 256, layers: int = 2) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.rnn = nn.LSTM(hidden, hidden, layers, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, ids, state=None):
        out, state = self.rnn(self.embed(ids), state)
        return self.head(out), state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seq-len", type=int, default=100)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--device", default="cpu", help="cpu or cuda (cuDNN's LSTM)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = torch.device(args.device)

    torch.manual_seed(args.seed)
    corpus = load_corpus()
    vocab = len(corpus.vocab)
    train = torch.from_numpy(np.asarray(corpus.train.ids).astype(np.int64))
    rows = train[: len(train) // args.batch_size * args.batch_size].view(args.batch_size, -1)
    rows = rows.to(device)
    model = PlainLSTM(vocab, args.hidden, args.layers).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    budget = args.minutes * 60
    spent, step, pos, state, train_losses = 0.0, 0, 0, None, []
    while spent < budget:
        t0 = time.perf_counter()
        for g in opt.param_groups:
            g["lr"] = args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, spent / budget)))
        if pos + args.seq_len + 1 > rows.shape[1]:
            pos, state = 0, None
        x = rows[:, pos : pos + args.seq_len]
        y = rows[:, pos + 1 : pos + args.seq_len + 1]
        pos += args.seq_len
        logits, state = model(x, state)
        state = tuple(s.detach() for s in state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        train_losses.append(float(loss.detach()))
        if device.type == "cuda":
            torch.cuda.synchronize()  # time the step, not its launch
        spent += time.perf_counter() - t0
    # the last weights, as `rnnlab lm eval --last` scores rnnlab's side in run.sh
    val = evaluate_ids(model, corpus.val.ids, device, columns=16)
    print(
        json.dumps(
            {
                "run": f"plain {args.layers}x{args.hidden} torch.nn.LSTM, AdamW, cosine, "
                "carried state",
                "device": args.device,
                "seed": args.seed,
                "minutes": args.minutes,
                "steps": step,
                "train_chars": step * args.batch_size * args.seq_len,
                "train_loss_last_200": sum(train_losses[-200:]) / len(train_losses[-200:]),
                "val_loss_nats": val["loss"],
                "val_bpc": val["bpc"],
            }
        )
    )


if __name__ == "__main__":
    main()
