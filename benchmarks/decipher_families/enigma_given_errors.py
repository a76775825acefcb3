"""Where a trained given-start Enigma model still errs: at which letter of the message, and
from which start positions. Decrypts held-out messages (start positions never trained on)
and writes the count of wrong letters by position in the message and by start.

    python benchmarks/decipher_families/enigma_given_errors.py runs/enigma-given-seeds/seed2
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import numpy as np
import torch

from rnnlab.ciphers.keygen import KeySpace
from rnnlab.tasks.decipher import load

HERE = Path(__file__).resolve().parent
LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", help="a run of benchmarks/decipher_families/enigma_given.py")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--length", type=int, default=64)
    parser.add_argument("--json", default=str(HERE / "enigma-given-errors.json"))
    args = parser.parse_args()
    loaded = load(args.run, device="cpu")
    model = loaded.model.eval()
    space = KeySpace("enigma", LATIN, fixed=loaded.config["data"]["key"])
    rng = np.random.default_rng(7)
    by_position: collections.Counter[int] = collections.Counter()
    by_start: collections.Counter[str] = collections.Counter()
    batch = 500
    for _ in range(args.messages // batch):
        ciphers = [space.draw_cipher(rng, held_out=True) for _ in range(batch)]
        plain = rng.integers(0, 26, (batch, args.length))
        ciphertext = torch.tensor(
            [c.encrypt_indices(list(p)) for c, p in zip(ciphers, plain, strict=True)]
        )
        keys = torch.tensor([c.key_symbols() for c in ciphers])
        with torch.no_grad():
            ids = model.decode(ciphertext, keys, torch.full((batch,), 3)).ids
        for row, t in (ids != torch.from_numpy(plain)).nonzero().tolist():
            by_position[t] += 1
            by_start["".join(LATIN[k] for k in keys[row].tolist())] += 1
    record = {
        "run": args.run,
        "messages": args.messages,
        "length": args.length,
        "letters": args.messages * args.length,
        "wrong": sum(by_position.values()),
        "wrong_by_position": dict(sorted(by_position.items())),
        "wrong_by_start": dict(by_start.most_common()),
    }
    Path(args.json).write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
