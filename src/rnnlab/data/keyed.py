"""Messages under a fresh random key each (`--key-mode given|unknown`).

Like `CipherStream`, a training batch is a pure function of (seed, step): the step's
generator draws the plaintext first, then one key per message. Training keys come from the
training part of the key space and validation / evaluation keys from the held-out part
(see `rnnlab.ciphers.keygen`); text plaintext is also split by position, as for fixed keys.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnlab.ciphers.keygen import KeySpace, key_symbols
from rnnlab.data.batch import Batch
from rnnlab.data.parallel import STREAM_TRAIN, STREAM_VAL, Plaintext
from rnnlab.data.plaintext import HELD_OUT, TRAIN
from rnnlab.vocab import Vocab


def keyed_messages(
    space: KeySpace,
    plain: np.ndarray,
    rng: np.random.Generator,
    held_out: bool,
    uniform: bool = False,
) -> Batch:
    """Encrypt each row of `plain` under its own random key; the batch carries the keys
    (and with `uniform`, the same keys over uniformly random plaintext as `batch.uniform`)."""
    ciphers = [space.draw_cipher(rng, held_out) for _ in range(len(plain))]
    symbols = [key_symbols(c) for c in ciphers]
    keys = np.zeros((len(plain), space.max_symbols), dtype=np.int64)
    for row, sym in enumerate(symbols):
        keys[row, : len(sym)] = sym
    key_tensors = {
        "keys": torch.from_numpy(keys),
        "key_lengths": torch.tensor([len(s) for s in symbols], dtype=torch.int64),
    }

    def encrypted(rows: np.ndarray) -> Batch:
        cipher_ids = np.stack(
            [c.encrypt_ids(r[None])[0] for c, r in zip(ciphers, rows, strict=True)]
        )
        return Batch(
            torch.from_numpy(cipher_ids.astype(np.int64)),
            torch.from_numpy(rows.copy()),
            **key_tensors,
        )

    batch = encrypted(plain)
    if uniform:
        batch.uniform = encrypted(rng.integers(0, space.m, size=plain.shape, dtype=np.int64))
    return batch


def fresh_keyed_messages(
    space: KeySpace, plaintext: Plaintext, n: int, length: int, seed: int, stream: int
) -> Batch:
    """`n` messages under held-out keys (where the family holds keys out) and held-out text."""
    rng = np.random.default_rng([seed, stream, length])
    plain = plaintext.messages(rng, n, length, HELD_OUT)
    return keyed_messages(space, plain, rng, held_out=True)


class KeyedStream:
    def __init__(
        self,
        space: KeySpace,
        plaintext: Plaintext,
        seq_len: int,
        batch_size: int,
        seed: int,
        val_examples: int,
    ) -> None:
        self.space = space
        self.plaintext = plaintext
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.seed = seed
        self.uniform = False  # also hand out each batch's keys over uniform plaintext
        self.curriculum = 0  # steps at each length 1, 2, 4, … before seq_len (0: none)
        self.val = fresh_keyed_messages(space, plaintext, val_examples, seq_len, seed, STREAM_VAL)

    @property
    def vocab(self) -> Vocab:
        return Vocab(self.space.alphabet)

    @property
    def key_space(self) -> KeySpace:
        return self.space

    def vocabs(self) -> tuple[Vocab, Vocab]:
        return self.vocab, self.vocab

    def spec(self) -> dict:
        """What config.json records in place of one cipher's spec."""
        return {"name": self.space.family, "key": None, "alphabet": self.space.alphabet}

    def train_batch(self, step: int) -> Batch:
        rng = np.random.default_rng([self.seed, STREAM_TRAIN, step])
        length, rows = self.seq_len, self.batch_size
        if self.curriculum:  # shorter messages first, as many characters per step
            length = min(self.seq_len, 2 ** (step // self.curriculum))
            rows = self.batch_size * self.seq_len // length
        plain = self.plaintext.messages(rng, rows, length, TRAIN)
        return keyed_messages(self.space, plain, rng, held_out=False, uniform=self.uniform)
