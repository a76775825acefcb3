"""Where decipher training messages come from: uniform random symbols, or real text.

    random   the seed's messages: every symbol uniform and independent
    english  windows of the shipped English corpus (Tiny Shakespeare), letters only
    FILE     windows of any UTF-8 text file, reduced the same way

Text is reduced to the cipher's alphabet (a character is kept if it, or its other case, is
a symbol; everything else is dropped), then split by position: the first 90% of the
symbols give training messages and the last 10% held-out ones, so no held-out message is
text the model trained on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rnnlab.ciphers import Alphabet
from rnnlab.errors import UserError
from rnnlab.io import read_text

TRAIN, HELD_OUT = "train", "held_out"
TEXT_TRAIN_FRACTION = 0.9


class RandomPlaintext:
    uniform = True

    def __init__(self, alphabet: Alphabet) -> None:
        self.size = len(alphabet)

    def messages(self, rng: np.random.Generator, n: int, length: int, split: str) -> np.ndarray:
        return rng.integers(0, self.size, size=(n, length), dtype=np.int64)


class TextPlaintext:
    uniform = False

    def __init__(self, text: str, alphabet: Alphabet, source: str) -> None:
        symbol_of = {}  # decided once per distinct character, not once per character
        for ch in set(text):
            found = next((f for f in map(alphabet.lookup, (ch, ch.upper(), ch.lower())) if f), None)
            if found is not None:
                symbol_of[ch] = found[0]
        ids = np.array([symbol_of[ch] for ch in text if ch in symbol_of], dtype=np.int64)
        cut = int(len(ids) * TEXT_TRAIN_FRACTION)
        self.regions = {TRAIN: ids[:cut], HELD_OUT: ids[cut:]}
        self.source = source
        if len(self.regions[HELD_OUT]) < 2:
            raise UserError(f"{source}: too little text in the cipher's alphabet to use")

    def messages(self, rng: np.random.Generator, n: int, length: int, split: str) -> np.ndarray:
        region = self.regions[split]
        if len(region) < length:
            raise UserError(
                f"{self.source}: its {split.replace('_', '-')} part has {len(region)} alphabet "
                f"symbols, fewer than a message of {length}"
            )
        starts = rng.integers(0, len(region) - length + 1, size=n)
        return region[starts[:, None] + np.arange(length)]


def plaintext_source(spec: str, alphabet: Alphabet) -> RandomPlaintext | TextPlaintext:
    if spec == "random":
        return RandomPlaintext(alphabet)
    if spec == "english":
        from rnnlab.data.corpus import shipped_corpus

        path = shipped_corpus()
        return TextPlaintext(read_text(path), alphabet, "english (Tiny Shakespeare)")
    path = Path(spec)
    if not path.exists():
        raise UserError(f"`plaintext` {spec!r}: use random, english, or an existing text file")
    return TextPlaintext(read_text(path), alphabet, str(path))
