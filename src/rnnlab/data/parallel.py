"""Parallel (ciphertext, plaintext) data for the decipher task.

Two sources, one interface (`train_batch(step)` and a fixed held-out set):

* `CipherStream`: endless random messages over a cipher's alphabet, encrypted on the fly,
  as in the seed. Each step's batch is a pure function of (seed, step), so a resumed run
  sees exactly the batches an uninterrupted one would — no data-loader state to save.
* `PairsData`: a user's file of `plaintext<TAB>ciphertext` lines, validated up front.
  Lines longer than PAIR_WINDOW are cut into windows, so that memory is bounded by
  batch x window however long a line is.

Held-out messages are never trained on: the stream drops any training message that equals
a validation one, and the pairs split removes training lines (and windows) whose
ciphertext is held out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from rnnlab.ciphers import Cipher
from rnnlab.data.batch import IGNORE_INDEX, Batch
from rnnlab.data.plaintext import HELD_OUT, TRAIN, RandomPlaintext, TextPlaintext
from rnnlab.errors import UserError
from rnnlab.io import read_text
from rnnlab.vocab import Vocab, describe_char

Plaintext = RandomPlaintext | TextPlaintext

# Independent random streams derived from one user seed (numpy SeedSequence entropy words).
STREAM_TRAIN, STREAM_VAL, STREAM_EVAL = 1, 2, 3

# The longest piece of a pair that one batch row holds: longer pairs are cut into windows
# of this many characters, so a batch never holds more than batch_size x PAIR_WINDOW
# positions however long a line is (a 1 MB line padded every row of a batch to 1 MB: 8 GB
# for the embeddings alone). A constant rather than --seq-len (default 32), so that files
# whose lines fit, as sentence- or line-per-pair files do, train exactly as before: the
# same batches for the same seed. 256 characters is ample context for the aligned ciphers
# a tagger learns (the seed's messages are 32; a Vigenere key of 12 repeats 21 times).
PAIR_WINDOW = 256


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
                f"hold out {val_examples} for validation; use a longer `seq_len`"
            )
        self.val = fresh_messages(cipher, self.plaintext, val_examples, seq_len, seed, STREAM_VAL)
        # Text plaintext is held out by position already; random messages need a filter.
        self._held_out = (
            {row.tobytes() for row in self.val.targets.numpy()} if self.plaintext.uniform else set()
        )

    key_space = None  # one fixed key: no key space

    @property
    def vocab(self) -> Vocab:
        return Vocab(self.cipher.alphabet.chars)

    def vocabs(self) -> tuple[Vocab, Vocab]:
        """The model's input and output vocabularies."""
        return self.vocab, self.vocab

    def spec(self) -> dict:
        """The cipher config.json records: its canonical key and alphabet."""
        return self.cipher.spec()

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


def windows(pairs: list[Pair], width: int = PAIR_WINDOW) -> tuple[list[Pair], np.ndarray]:
    """Each pair cut into consecutive windows of at most `width` characters, and for each
    window the index of the pair it came from:

        pairs     0: |<--- width --->|<--- width --->|<- rest ->|    1: |<- short ->|
        windows      0a              0b              0c                 1
        source       0               0               0                  1

    The cipher is aligned character by character (read_pairs checks equal lengths), so a
    window of the ciphertext decrypts to the same window of the plaintext. Pairs that fit
    are their own single window, in order.
    """
    cut: list[Pair] = []
    source: list[int] = []
    for index, p in enumerate(pairs):
        if len(p.ciphertext) <= width:
            cut.append(p)
            source.append(index)
            continue
        for start in range(0, len(p.ciphertext), width):
            end = start + width
            cut.append(Pair(p.plaintext[start:end], p.ciphertext[start:end]))
            source.append(index)
    return cut, np.asarray(source, dtype=np.int64)


def pad_pairs(pairs: list[Pair], in_vocab: Vocab, out_vocab: Vocab) -> Batch:
    """Right-pad variable-length pairs into one batch; padded targets are IGNORE_INDEX.
    The batch is as wide as the longest pair: give it windows (`windows`), or a few rows at
    a time (`PairSet`), not a whole file of long lines."""
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


class PairSet:
    """Pairs to score, cut into windows and padded a few rows at a time, so that neither a
    long pair nor a long file makes one wide tensor.

    A message is still a whole pair: `source` maps each window (row) back to its pair, so
    whole-message accuracy counts the pairs whose every window is decrypted right. Each
    window is decrypted on its own, from a fresh state, as it was trained.
    """

    def __init__(
        self, pairs: list[Pair], in_vocab: Vocab, out_vocab: Vocab, width: int = PAIR_WINDOW
    ) -> None:
        self.pairs = pairs
        self.windows, self.source = windows(pairs, width)
        self.in_vocab, self.out_vocab = in_vocab, out_vocab

    def __len__(self) -> int:
        return len(self.pairs)

    def batches(self, rows: int) -> Iterator[Batch]:
        """The windows in order, `rows` at a time, each batch padded to its own widest."""
        for start in range(0, len(self.windows), rows):
            yield pad_pairs(self.windows[start : start + rows], self.in_vocab, self.out_vocab)

    def messages_right(self, rows_right: np.ndarray) -> int:
        """Pairs whose every window is right, from one bool per window (in order)."""
        wrong = np.zeros(len(self.pairs), dtype=bool)
        np.logical_or.at(wrong, self.source, ~rows_right)
        return int((~wrong).sum())


class PairsData:
    def __init__(self, path: str | Path, batch_size: int, seed: int, val_frac: float = 0.1) -> None:
        pairs = read_pairs(path)
        if len(pairs) < 2:
            raise UserError(f"{path}: need at least 2 pairs (one to train, one to validate)")
        # The split is by pair, before any cutting: a long line is all held out or all
        # trained on, never both.
        order = np.random.default_rng([seed, STREAM_VAL]).permutation(len(pairs))
        n_val = max(1, round(len(pairs) * val_frac))
        val = [pairs[i] for i in order[:n_val]]
        held_out = {p.ciphertext for p in val}
        train = [pairs[i] for i in order[n_val:] if pairs[i].ciphertext not in held_out]
        # Training draws windows; one that repeats a held-out window's ciphertext is
        # dropped too, as a line that repeats a held-out line is.
        held_out_windows = {w.ciphertext for w in windows(val)[0]}
        train_windows = [w for w in windows(train)[0] if w.ciphertext not in held_out_windows]
        if not train_windows:
            raise UserError(f"{path}: every pair is a duplicate of a held-out one")
        self.train_pairs = train
        self.train_windows = train_windows
        self.batch_size = batch_size
        self.seed = seed
        self.in_vocab = Vocab.from_text(w.ciphertext for w in train_windows)
        self.out_vocab = Vocab.from_text(w.plaintext for w in train_windows)
        # A held-out pair with a character training never showed cannot be fed to the
        # model at all; it is left out of validation and counted, not hidden.
        self.val_pairs = [p for p in val if self._encodable(p)]
        self.val_dropped = len(val) - len(self.val_pairs)
        self.val = PairSet(self.val_pairs or train[:1], self.in_vocab, self.out_vocab)

    key_space = None  # pairs carry no keys

    def vocabs(self) -> tuple[Vocab, Vocab]:
        return self.in_vocab, self.out_vocab

    def spec(self) -> dict | None:
        return None  # no cipher: whatever made the pairs

    def _encodable(self, p: Pair) -> bool:
        return not self.in_vocab.unknown_chars(p.ciphertext) and not self.out_vocab.unknown_chars(
            p.plaintext
        )

    def train_batch(self, step: int) -> Batch:
        """`batch_size` windows drawn uniformly (so a long line is drawn in proportion to
        its length, like any text of that length), a pure function of (seed, step)."""
        rng = np.random.default_rng([self.seed, STREAM_TRAIN, step])
        rows = rng.integers(0, len(self.train_windows), size=self.batch_size)
        return pad_pairs([self.train_windows[i] for i in rows], self.in_vocab, self.out_vocab)


def unseen_char_error(text: str, vocab: Vocab) -> UserError:
    ch = vocab.unknown_chars(text)[0]
    return UserError(
        f"character {describe_char(ch)} never appeared in training; the model cannot read it"
    )
