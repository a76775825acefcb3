"""Sampling speed: `rnnlab lm sample`'s loop against a bare torch.nn.LSTM step loop.

Both generate the same number of characters from a 2 x 512 LSTM language model on the
CPU, one step per character with the state carried: embed the last character, one LSTM
step, the output layer, softmax, draw. The bare loop is the least code that does that
work; the ratio is rnnlab's time over the bare loop's, medians of --repeats runs, measured
in one process.

    python benchmarks/lm_sampling/run.py [--chars 1000] [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import torch
from torch import nn

from rnnlab.lm import LoadedLM, sample
from rnnlab.models.charlm import CharLM, CharLMConfig
from rnnlab.vocab import Vocab

VOCAB = Vocab("\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def bare_loop(embed: nn.Embedding, lstm: nn.LSTM, head: nn.Linear, n: int, seed: int) -> str:
    gen = torch.Generator().manual_seed(seed)
    x = torch.zeros(1, 1, dtype=torch.long)
    state = None
    out = []
    with torch.no_grad():
        for _ in range(n):
            h, state = lstm(embed(x), state)
            probs = torch.softmax(head(h[0, -1]), -1)
            i = int(torch.multinomial(probs, 1, generator=gen))
            out.append(VOCAB.chars[i])
            x.fill_(i)
    return "".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.manual_seed(0)
    config = CharLMConfig(len(VOCAB), embedding=512, hidden=512, layers=2, tie_weights=True)
    model = CharLM(config).eval()
    loaded = LoadedLM(model, {}, VOCAB, torch.device("cpu"), "random init")

    def ours() -> None:
        "".join(sample(loaded, "\n", args.chars, temperature=1.0, seed=1))

    def bare() -> None:
        bare_loop(model.embed, model.rnn, model.head, args.chars, seed=1)

    times: dict[str, list[float]] = {"rnnlab": [], "bare": []}
    for _ in range(args.repeats):  # interleaved, so drift in machine speed hits both
        for name, fn in (("rnnlab", ours), ("bare", bare)):
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(
        json.dumps(
            {
                "machine": f"{platform.platform()} ({torch.get_num_threads()} threads), "
                f"torch {torch.__version__}",
                "model": "CharLM 2x512 LSTM, tied",
                "chars": args.chars,
                "repeats": args.repeats,
                "seconds_median": med,
                "chars_per_s": {k: round(args.chars / v) for k, v in med.items()},
                "ratio_time_rnnlab_over_bare": round(med["rnnlab"] / med["bare"], 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
