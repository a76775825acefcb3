"""A pairs file with a very long line: memory stays bounded by batch x PAIR_WINDOW.

Before windowing, every batch (and validation) was padded to the longest pair, so one
1,000,000-character line made each training batch 64 x 1,000,000 positions wide.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnlab import decipher
from rnnlab.ciphers import get_cipher
from rnnlab.data.parallel import (
    PAIR_WINDOW,
    STREAM_VAL,
    Pair,
    PairsData,
    PairSet,
    pad_pairs,
    windows,
)
from rnnlab.models.base import DecipherModel, Decoded
from rnnlab.vocab import Vocab

from .helpers import run_cli

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
CIPHER = get_cipher("caesar", key=13, alphabet=ALPHABET)
LONG = 200_000
SHORT = 40


def random_pair(rng: np.random.Generator, length: int, letters: str = ALPHABET) -> Pair:
    plain = "".join(rng.choice(list(letters), size=length))
    return Pair(plain, CIPHER.encrypt(plain))


def long_file(tmp_path, seed: int = 0):
    """One LONG-character pair first, then SHORT short ones; returns (path, pairs)."""
    rng = np.random.default_rng(seed)
    pairs = [random_pair(rng, LONG)]
    pairs += [random_pair(rng, int(n)) for n in rng.integers(5, 30, size=SHORT)]
    path = tmp_path / "long.tsv"
    path.write_text("".join(f"{p.plaintext}\t{p.ciphertext}\n" for p in pairs))
    return path, pairs


def split_seed(held_out: bool) -> int:
    """A seed whose split puts the long pair (line 1) in validation, or in training."""
    for seed in range(100):
        order = np.random.default_rng([seed, STREAM_VAL]).permutation(SHORT + 1)
        if (0 in order[: round((SHORT + 1) * 0.1)]) == held_out:
            return seed
    raise AssertionError("no such seed")


def test_windows_cut_a_long_pair_into_aligned_consecutive_pieces():
    rng = np.random.default_rng(1)
    pairs = [random_pair(rng, 10), random_pair(rng, 25), random_pair(rng, 8)]
    cut, source = windows(pairs, width=8)
    assert [len(w.ciphertext) for w in cut] == [8, 2, 8, 8, 8, 1, 8]
    assert source.tolist() == [0, 0, 1, 1, 1, 1, 2]
    for index, p in enumerate(pairs):
        mine = [w for w, s in zip(cut, source, strict=True) if s == index]
        assert "".join(w.ciphertext for w in mine) == p.ciphertext
        assert "".join(w.plaintext for w in mine) == p.plaintext
        assert all(CIPHER.encrypt(w.plaintext) == w.ciphertext for w in mine)


@pytest.mark.parametrize("held_out", [False, True])
def test_batches_stay_a_window_wide_however_long_a_line(tmp_path, held_out):
    path, pairs = long_file(tmp_path)
    data = PairsData(path, batch_size=16, seed=split_seed(held_out))
    assert (pairs[0] in data.val_pairs) == held_out
    widths = [data.train_batch(step).inputs.shape[1] for step in range(1, 21)]
    assert max(widths) <= PAIR_WINDOW
    val_rows = list(data.val.batches(512))
    assert max(b.inputs.shape[1] for b in val_rows) <= PAIR_WINDOW
    # validation still covers every held-out character, and counts pairs as messages
    assert sum(b.num_targets for b in val_rows) == sum(len(p.plaintext) for p in data.val_pairs)
    assert len(data.val) == len(data.val_pairs) == round((SHORT + 1) * 0.1)
    if not held_out:  # the long line is most of the text, so most rows come from it
        assert sum(w == PAIR_WINDOW for w in widths) > 15


def test_no_held_out_ciphertext_is_trained_on_when_lines_are_cut(tmp_path):
    # the long line repeats a held-out line's text at one of its window boundaries
    rng = np.random.default_rng(2)
    short = [random_pair(rng, PAIR_WINDOW) for _ in range(9)]
    long = Pair(
        short[0].plaintext * 3 + short[1].plaintext * 2,
        short[0].ciphertext * 3 + short[1].ciphertext * 2,
    )
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{p.plaintext}\t{p.ciphertext}\n" for p in [long, *short]))
    for seed in range(10):
        data = PairsData(path, batch_size=4, seed=seed, val_frac=0.2)
        held = {w.ciphertext for w in windows(data.val_pairs)[0]}
        assert not held & {w.ciphertext for w in data.train_windows}
        for step in range(1, 4):
            batch = data.train_batch(step)
            rows = {data.in_vocab.decode(r[r >= 0].tolist()) for r in batch.inputs.numpy()}
            assert not held & rows


def test_files_whose_lines_fit_draw_the_same_batches_as_before(tmp_path):
    rng = np.random.default_rng(3)
    pairs = [random_pair(rng, int(n)) for n in rng.integers(3, PAIR_WINDOW + 1, size=30)]
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{p.plaintext}\t{p.ciphertext}\n" for p in pairs))
    data = PairsData(path, batch_size=8, seed=5)
    assert data.train_windows == data.train_pairs
    for step in (1, 2, 9):  # before windowing: rows drawn from the pairs, padded together
        rows = np.random.default_rng([5, 1, step]).integers(0, len(data.train_pairs), size=8)
        want = pad_pairs([data.train_pairs[i] for i in rows], data.in_vocab, data.out_vocab)
        got = data.train_batch(step)
        assert torch.equal(got.inputs, want.inputs) and torch.equal(got.targets, want.targets)


class TableModel(DecipherModel):
    """Decrypts by a fixed table from ciphertext id to plaintext id: a stand-in that
    scoring can be checked against exactly."""

    def __init__(self, table: list[int], out_vocab: int) -> None:
        super().__init__()
        self.table = torch.tensor(table)
        self.out_vocab = out_vocab

    def decode(self, inputs, keys=None, key_lengths=None, lengths=None, chunk=512):
        ids = self.table[inputs]
        return Decoded(ids, torch.nn.functional.one_hot(ids, self.out_vocab).float() * 20)


def test_a_message_is_a_whole_pair_however_many_windows_it_was_scored_in():
    # The model misreads one ciphertext symbol, which only the long pair's very last
    # character has: one mistake, in its fourth window.
    rng = np.random.default_rng(4)
    letters = ALPHABET.replace("-", "")
    long = random_pair(rng, 3 * PAIR_WINDOW + 7, letters)
    long = Pair(long.plaintext + "-", long.ciphertext + CIPHER.encrypt("-"))
    pairs = [long] + [random_pair(rng, 20, letters) for _ in range(4)]
    vocab = Vocab(ALPHABET)
    table = [int(vocab.encode(CIPHER.decrypt(ch))[0]) for ch in ALPHABET]
    table[int(vocab.encode(CIPHER.encrypt("-"))[0])] = int(vocab.encode("A")[0])
    model = TableModel(table, len(vocab))
    result = decipher.score(model, PairSet(pairs, vocab, vocab), torch.device("cpu"), chunk=2)
    chars = sum(len(p.plaintext) for p in pairs)
    assert result["messages"] == 5
    assert result["message_accuracy"] == 4 / 5  # the long pair is one message, wrong
    assert result["accuracy"] == pytest.approx(1 - 1 / chars)
    # the same pairs as one padded batch (how scoring read them before) score the same
    whole = decipher.score(model, pad_pairs(pairs, vocab, vocab), torch.device("cpu"))
    assert whole["messages"] == result["messages"]
    assert whole["message_accuracy"] == result["message_accuracy"]
    for name in ("accuracy", "loss"):
        assert whole[name] == pytest.approx(result[name])


def test_training_and_eval_on_a_file_with_a_very_long_line(tmp_path, capsys):
    path, pairs = long_file(tmp_path)
    out = tmp_path / "run"
    args = ["decipher", "train", "--pairs", str(path), "--steps", "2", "--hidden", "8"]
    args += ["--batch-size", "8", "--seed", str(split_seed(held_out=True))]
    code, stdout, err = run_cli([*args, "--out", str(out), "--quiet", "--device", "cpu"], capsys)
    assert code == 0, err
    assert "(4 messages never seen in training)" in stdout  # pairs, not windows
    code, stdout, err = run_cli(
        ["decipher", "eval", str(out), "--pairs", str(path), "--json"], capsys
    )
    assert code == 0, err
    result = json.loads(stdout)
    assert result["examples"] == len(pairs)
    assert 0.0 <= result["accuracy"]["pairs"] <= 1.0
