"""Parallel (ciphertext, plaintext) data for the decipher task.

Two sources, one interface (`train_batch(step)` and a fixed held-out set):

* `CipherStream`: endless random messages over a cipher's alphabet, encrypted on the fly,
  as in the seed. Each step's batch is a pure function of (seed, step), so a resumed run
  sees exactly the batches an uninterrupted one would — no data-loader state to save.
* `PairsData`: a user's file of `plaintext<TAB>ciphertext` lines, validated up front.

Held-out messages are never trained on: the stream drops any training message that equals
a validation one, and the pairs split removes training lines whose ciphertext is held out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnlab.ciphers import Cipher
from rnnlab.data.batch import IGNORE_INDEX, Batch
from rnnlab.data.plaintext import HELD_OUT, TRAIN, RandomPlaintext, TextPlaintext
from rnnlab.data.textfile import read_text
from rnnlab.errors import UserError
from rnnlab.vocab import Vocab, describe_char

Plaintext = RandomPlaintext | TextPlaintext

# Independent random streams derived from one user seed (numpy SeedSequence entropy words).
STREAM_TRAIN, STREAM_VAL, STREAM_EVAL = 1, 2, 3


def message_batch(cipher: Cipher, plain: np.ndarray) -> Batch:
    """Model input is the ciphertext; the target is the plaintext, symbol by symbol."""
    cipher_ids = cipher.encrypt_ids(plain)
    return Batch(torch.from_numpy(cipher_ids), torch.from_numpy(plain.copy()))


def fresh_messages(
    cipher: Cipher, plaintext: Plaintext, n: int, length: int, seed: int, stream: int
) -> Batch:
    """`n` messages never used for training: a separate random stream, and for text
    plaintext the held-out part of the text."""
    rng = np.random.default_rng([seed, stream, length])
    return message_batch(cipher, plaintext.messages(rng, n, length, HELD_OUT))


class CipherStream:
    def __init__(
        self,
        cipher: Cipher,
        seq_len: int,
        batch_size: int,
        seed: int,
        val_examples: int,
        plaintext: Plaintext | None = None,
    ) -> None:
        self.cipher = cipher
        self.plaintext = plaintext or RandomPlaintext(cipher.alphabet)
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.seed = seed
        size = len(cipher.alphabet)
        # With a tiny message space the held-out set would swallow most of it; refuse rather
        # than loop forever looking for unseen training messages.
        if self.plaintext.uniform and size**seq_len < 100 * val_examples:
            raise UserError(
                f"only {size}^{seq_len} distinct messages of length {seq_len}: too few to "
                f"hold out {val_examples} for validation; use a longer --seq-len"
            )
        self.val = fresh_messages(cipher, self.plaintext, val_examples, seq_len, seed, STREAM_VAL)
        # Text plaintext is held out by position already; random messages need a filter.
        self._held_out = (
            {row.tobytes() for row in self.val.targets.numpy()} if self.plaintext.uniform else set()
        )

    @property
    def vocab(self) -> Vocab:
        return Vocab(self.cipher.alphabet.chars)

    def train_batch(self, step: int) -> Batch:
        rng = np.random.default_rng([self.seed, STREAM_TRAIN, step])
        plain = self.plaintext.messages(rng, self.batch_size, self.seq_len, TRAIN)
        for row in range(len(plain)):
            while plain[row].tobytes() in self._held_out:
                plain[row] = self.plaintext.messages(rng, 1, self.seq_len, TRAIN)[0]
        return message_batch(self.cipher, plain)


@dataclass(frozen=True)
class Pair:
    plaintext: str
    ciphertext: str


def read_pairs(path: str | Path) -> list[Pair]:
    """Parse and validate a pairs file; every problem names its line number."""
    text = read_text(path)
    pairs: list[Pair] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue  # blank lines (a trailing newline, a separator) carry no pair
        fields = line.split("\t")
        if len(fields) != 2:
            raise UserError(
                f"{path}:{lineno}: expected 'plaintext<TAB>ciphertext', found "
                f"{len(fields) - 1} tab(s)"
            )
        plain, cipher = fields
        if not plain or not cipher:
            raise UserError(f"{path}:{lineno}: empty plaintext or ciphertext")
        if len(plain) != len(cipher):
            raise UserError(
                f"{path}:{lineno}: plaintext has {len(plain)} characters but ciphertext has "
                f"{len(cipher)}; pairs must be the same length"
            )
        pairs.append(Pair(plain, cipher))
    if not pairs:
        raise UserError(f"{path}: no pairs found")
    return pairs


def pad_pairs(pairs: list[Pair], in_vocab: Vocab, out_vocab: Vocab) -> Batch:
    """Right-pad variable-length pairs; padded targets are IGNORE_INDEX."""
    lengths = [len(p.ciphertext) for p in pairs]
    width = max(lengths)
    inputs = np.zeros((len(pairs), width), dtype=np.int64)
    targets = np.full((len(pairs), width), IGNORE_INDEX, dtype=np.int64)
    for row, p in enumerate(pairs):
        inputs[row, : lengths[row]] = in_vocab.encode(p.ciphertext)
        targets[row, : lengths[row]] = out_vocab.encode(p.plaintext)
    uniform = len(set(lengths)) == 1
    return Batch(
        torch.from_numpy(inputs),
        torch.from_numpy(targets),
        None if uniform else torch.tensor(lengths),
    )


class PairsData:
    def __init__(self, path: str | Path, batch_size: int, seed: int, val_frac: float = 0.1) -> None:
        pairs = read_pairs(path)
        if len(pairs) < 2:
            raise UserError(f"{path}: need at least 2 pairs (one to train, one to validate)")
        order = np.random.default_rng([seed, STREAM_VAL]).permutation(len(pairs))
        n_val = max(1, round(len(pairs) * val_frac))
        val = [pairs[i] for i in order[:n_val]]
        held_out = {p.ciphertext for p in val}
        train = [pairs[i] for i in order[n_val:] if pairs[i].ciphertext not in held_out]
        if not train:
            raise UserError(f"{path}: every pair is a duplicate of a held-out one")
        self.train_pairs = train
        self.batch_size = batch_size
        self.seed = seed
        self.in_vocab = Vocab.from_text(p.ciphertext for p in train)
        self.out_vocab = Vocab.from_text(p.plaintext for p in train)
        # A held-out pair with a character training never showed cannot be fed to the
        # model at all; it is left out of validation and counted, not hidden.
        self.val_pairs = [p for p in val if self._encodable(p)]
        self.val_dropped = len(val) - len(self.val_pairs)
        self.val = pad_pairs(self.val_pairs or train[:1], self.in_vocab, self.out_vocab)

    def _encodable(self, p: Pair) -> bool:
        return not self.in_vocab.unknown_chars(p.ciphertext) and not self.out_vocab.unknown_chars(
            p.plaintext
        )

    def train_batch(self, step: int) -> Batch:
        rng = np.random.default_rng([self.seed, STREAM_TRAIN, step])
        rows = rng.integers(0, len(self.train_pairs), size=self.batch_size)
        return pad_pairs([self.train_pairs[i] for i in rows], self.in_vocab, self.out_vocab)


def unseen_char_error(text: str, vocab: Vocab) -> UserError:
    ch = vocab.unknown_chars(text)[0]
    return UserError(
        f"character {describe_char(ch)} never appeared in training; the model cannot read it"
    )
