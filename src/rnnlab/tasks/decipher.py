"""The decipher task: learn a cipher from (ciphertext, plaintext) pairs, then decrypt.

Plain functions over typed configs — `train`, `evaluate`, `load`, `decrypt` — so that any
front end is a thin layer and a notebook can call the same things. Models are used only
through their one interface (`models/base.py`): `loss` in training, `decode` in use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import rnnlab
from rnnlab.ciphers import Alphabet, Cipher, get_cipher
from rnnlab.ciphers.keygen import KeySpace, key_symbols, key_text
from rnnlab.data.batch import IGNORE_INDEX, Batch
from rnnlab.data.keyed import KeyedStream, fresh_keyed_messages
from rnnlab.data.parallel import (
    STREAM_EVAL,
    CipherStream,
    PairsData,
    PairSet,
    fresh_messages,
    read_pairs,
    unseen_char_error,
)
from rnnlab.data.plaintext import plaintext_source
from rnnlab.errors import UserError
from rnnlab.models.base import DecipherModel
from rnnlab.models.twopass import same_keys
from rnnlab.tasks.decipher_config import TASK, DecipherRun, run_from_config
from rnnlab.tasks.runs import load_run, train_run
from rnnlab.train import Callbacks
from rnnlab.train.distributed import SINGLE, Ranks
from rnnlab.vocab import Vocab

__all__ = [
    "EVAL_POSITIONS",
    "SEED_EXAMPLE",
    "DecipherTask",
    "LoadedDecipherer",
    "build_source",
    "decrypt",
    "encode_line",
    "evaluate",
    "key_tensors",
    "load",
    "named_key",
    "prepare",
    "run_config",
    "sample_ciphertext",
    "score",
    "train",
]

SEED_EXAMPLE = "THIS-IS-A-SECRET"  # the seed task's example plaintext (tutorials 000-002)
EVAL_POSITIONS = 2**17  # message positions per evaluation forward pass (memory bound)

Source = CipherStream | PairsData | KeyedStream


class DecipherTask:
    """Hands the Trainer a data source's batches and scores the model on its held-out
    messages."""

    loss_scale = 1.0

    def __init__(self, source: Source, eval_batch: int = 512) -> None:
        self.source = source
        self.eval_batch = eval_batch

    def train_batch(self, step: int) -> Batch:
        return self.source.train_batch(step)

    def evaluate(self, model: DecipherModel, ranks: Ranks = SINGLE) -> dict[str, float]:
        device = next(model.parameters()).device
        return score(model, self.source.val, device, self.eval_batch, ranks)


def score(
    model: DecipherModel,
    data: Batch | PairSet,
    device: torch.device,
    chunk: int = 512,
    ranks: Ranks = SINGLE,
) -> dict:
    """Loss, and character and whole-message accuracy of the model's own decryption of
    `data`, `chunk` rows at a time. The loss is over the logits its decryption came from,
    or the teacher-forced ones where decoding makes none (greedy feedback). A PairSet is
    padded chunk by chunk and its messages are its pairs, however many windows each is.
    In a data-parallel run each rank scores its share of the messages and the sums are
    added up, so every rank returns what one process would."""
    if isinstance(data, PairSet):
        messages = len(data)
        mine = data
        if ranks.distributed:
            mine = PairSet(data.pairs[ranks.rows(messages)], data.in_vocab, data.out_vocab)
        pieces, count_right = mine.batches(chunk), mine.messages_right
    else:
        messages = len(data.inputs)
        pieces, count_right = row_chunks(data.take_rows(ranks.rows(messages)), chunk), np.sum
    total_loss = correct = chars = keys_right = 0.0
    named_any = False
    rows_right = []  # per row: is every position decrypted right
    model.eval()
    with torch.no_grad():
        for piece in pieces:
            piece = piece.to(device)
            targets, keys, key_lengths = piece.targets, piece.keys, piece.key_lengths
            decoded = model.decode(piece.inputs, keys, key_lengths, piece.lengths)
            logits = decoded.logits
            if logits is None:
                logits = model.teacher_forced(Batch(piece.inputs, targets, piece.lengths))
            if decoded.keys is not None and keys is not None:  # it named each message's key
                named_any = True
                keys_right += float(same_keys(*decoded.keys, keys, key_lengths).sum())
            mask = targets != IGNORE_INDEX
            total_loss += float(
                F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="sum")
            )
            hit = (decoded.ids == targets) | ~mask
            correct += float((hit & mask).sum())
            chars += float(mask.sum())
            rows_right.append(hit.all(dim=1).cpu())
    exact = int(count_right(torch.cat(rows_right).numpy())) if rows_right else 0
    sums = [total_loss, correct, chars, keys_right, float(exact), float(named_any)]
    total_loss, correct, chars, keys_right, exact, named = ranks.sum(sums)
    named_any = named > 0
    result = {
        "loss": total_loss / chars,
        "accuracy": correct / chars,
        "message_accuracy": exact / messages,
        "messages": messages,
    }
    if named_any:
        result["key_accuracy"] = keys_right / messages  # pass 1 named the key
    return result


def row_chunks(batch: Batch, rows: int) -> Iterator[Batch]:
    """`batch` as consecutive pieces of `rows` rows (each message's key with it)."""
    for start in range(0, len(batch.inputs), rows):
        yield batch.take_rows(slice(start, start + rows))


# -- training -------------------------------------------------------------------------


def build_source(data, batch_size: int, seed: int) -> Source:
    if data.pairs is not None:
        return PairsData(data.pairs, batch_size, seed)
    if data.key_mode != "fixed":
        space = data.key_space()
        plaintext = plaintext_source(data.plaintext, space_alphabet(space))
        stream = KeyedStream(space, plaintext, data.seq_len, batch_size, seed, data.val_examples)
        stream.curriculum = data.curriculum
        return stream
    cipher = get_cipher(data.cipher, key=data.key, alphabet=data.alphabet)
    plaintext = plaintext_source(data.plaintext, cipher.alphabet)
    return CipherStream(cipher, data.seq_len, batch_size, seed, data.val_examples, plaintext)


def space_alphabet(space: KeySpace) -> Alphabet:
    return Alphabet(space.alphabet)


def run_config(run: DecipherRun, source: Source) -> dict[str, Any]:
    """What goes into config.json: enough to rebuild the model, the data and the run."""
    in_vocab, out_vocab = source.vocabs()
    data = asdict(run.data)
    spec = source.spec()  # one cipher's canonical key, or a key space's family: none for pairs
    if spec is not None:
        data["cipher_spec"] = spec
    if source.key_space is not None:
        data["held_out_keys"] = source.key_space.holds_out
    return {
        "task": TASK,
        "rnnlab_version": rnnlab.__version__,
        "architecture": run.architecture,
        "data": data,
        "model": run.model.to_dict(),
        "train": run.train.to_dict(),
        "in_vocab": in_vocab.to_dict(),
        "out_vocab": out_vocab.to_dict(),
    }


def prepare(run: DecipherRun) -> tuple[DecipherTask, dict[str, Any]]:
    """The data source, and the model's sizes filled in from it."""
    source = build_source(run.data, run.train.batch_size, run.train.seed)
    in_vocab, out_vocab = source.vocabs()
    space = source.key_space
    run.model.sized_for(len(in_vocab), len(out_vocab), space)
    if space is not None:
        source.uniform = run.model.uniform_drill
    return DecipherTask(source), run_config(run, source)


class DecipherKind:
    """The decipher task, as the path every run takes sees it (tasks/runs.py)."""

    name = TASK

    def run_from_config(self, config: dict[str, Any]) -> DecipherRun:
        return run_from_config(config)

    def prepare(self, run: DecipherRun) -> tuple[DecipherTask, dict[str, Any]]:
        return prepare(run)


KIND = DecipherKind()


def train(
    run: DecipherRun,
    out: str | Path,
    resume: bool = False,
    callbacks: Callbacks | None = None,
    steps: int | None = None,
) -> tuple[DecipherModel, dict[str, Any]]:
    """Train (or resume) a decipher model into `out`; returns the model and last eval.

    On resume the run is rebuilt from the saved config.json: the steps, if given, extend
    it, and any other option given (`run.given`) that is not the saved run's is an error
    rather than ignored.
    """
    return train_run(KIND, run, out, resume=resume, callbacks=callbacks, steps=steps)


# -- using a trained model ------------------------------------------------------------


@dataclass
class LoadedDecipherer:
    model: DecipherModel
    config: dict[str, Any]
    in_vocab: Vocab
    out_vocab: Vocab
    device: torch.device

    @property
    def key_mode(self) -> str:
        return self.config["data"].get("key_mode", "fixed")

    @property
    def cipher(self) -> Cipher | None:
        """The one cipher a fixed-key model learned (None for pairs or random keys)."""
        spec = self.config["data"].get("cipher_spec")
        return get_cipher(**spec) if spec and self.key_mode == "fixed" else None

    @property
    def key_space(self) -> KeySpace | None:
        if self.key_mode == "fixed":
            return None
        return run_from_config(self.config).data.key_space()


def load(directory: str | Path, device: str = "auto") -> LoadedDecipherer:
    model, config, dev = load_run(KIND, directory, device=device)
    in_vocab, out_vocab = Vocab.from_dict(config["in_vocab"]), Vocab.from_dict(config["out_vocab"])
    return LoadedDecipherer(model, config, in_vocab, out_vocab, dev)


def key_tensors(
    loaded: LoadedDecipherer, key: str | None
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The key as the model reads it, checked against how the model was trained."""
    space = loaded.key_space
    if loaded.key_mode != "given":
        if key is not None:
            what = "one fixed key" if loaded.key_mode == "fixed" else "unknown keys"
            raise UserError(f"this model was trained on {what}; it takes no `key`")
        return None, None
    if key is None:
        raise UserError(f"this model decrypts under a key you give: pass `key` ({space.family})")
    symbols = key_symbols(space.cipher(key))
    limit = loaded.model.config.max_key_len
    if len(symbols) > limit:
        raise UserError(f"key {key!r} has {len(symbols)} symbols; this model reads at most {limit}")
    keys = torch.tensor([symbols], device=loaded.device)
    return keys, torch.tensor([len(symbols)], device=loaded.device)


def encode_line(loaded: LoadedDecipherer, text: str) -> torch.Tensor:
    """One line as a (1, length) batch of ids on the model's device; a character the
    model never saw is an error that names it."""
    if loaded.in_vocab.unknown_chars(text):
        raise unseen_char_error(text, loaded.in_vocab)
    return torch.from_numpy(loaded.in_vocab.encode(text)).unsqueeze(0).to(loaded.device)


def decrypt(loaded: LoadedDecipherer, text: str, key: str | None = None, chunk: int = 4096) -> str:
    """Decrypt one line (under `key` for a given-key model). Unidirectional models stream
    long text through in chunks, carrying their state, and bidirectional ones read it in
    windows, so memory does not grow with length."""
    keys, key_lengths = key_tensors(loaded, key)
    if not text:
        return ""
    ids = encode_line(loaded, text)
    with torch.no_grad():
        decoded = loaded.model.decode(ids, keys, key_lengths, chunk=chunk)
    return loaded.out_vocab.decode(decoded.ids[0].cpu().tolist())


def named_key(loaded: LoadedDecipherer, text: str) -> str:
    """The key a two-pass model names for `text`, in the family's --key syntax."""
    if not loaded.model.names_keys:
        raise UserError("only a two-pass model names the key it decrypts under")
    if not text:
        raise UserError("an empty line has no key to name")
    with torch.no_grad():
        keys, lengths = loaded.model.name_keys(encode_line(loaded, text))
    space = loaded.key_space
    symbols = keys[0, : int(lengths[0])].tolist()
    text = key_text(space.family, space.alphabet, symbols)
    try:  # the key as the model read it; say so when that is not a key the family takes
        get_cipher(space.family, key=text, alphabet=space.alphabet)
    except UserError as e:
        return f"{text} (not a valid {space.family} key: {e})"
    return text


def evaluate(
    loaded: LoadedDecipherer,
    lengths: list[int],
    examples: int = 1000,
    seed: int = 1234,
    pairs: str | None = None,
) -> dict[str, Any]:
    """Accuracy on fresh messages at each length (or on a pairs file); under random keys,
    on held-out keys where the family holds keys out."""
    if pairs is not None:
        if loaded.key_mode == "given":
            raise UserError("a pairs file has no keys; this model needs one per message")
        # Windowed and padded a chunk at a time: memory bounded however long a line is.
        pair_set = PairSet(read_pairs(pairs), loaded.in_vocab, loaded.out_vocab)
        result = score(loaded.model, pair_set, loaded.device)
        return {
            "accuracy": {"pairs": result["accuracy"]},
            "message_accuracy": {"pairs": result["message_accuracy"]},
            "examples": result["messages"],
        }
    space = loaded.key_space
    cipher = loaded.cipher
    if cipher is None and space is None:
        raise UserError("this model was trained on a pairs file; evaluate it with `pairs` FILE")
    alphabet = cipher.alphabet if cipher is not None else space_alphabet(space)
    plaintext = plaintext_source(loaded.config["data"].get("plaintext", "random"), alphabet)
    accuracy, message_accuracy, key_accuracy = {}, {}, {}
    for length in lengths:
        if space is not None:
            batch = fresh_keyed_messages(space, plaintext, examples, length, seed, STREAM_EVAL)
        else:
            batch = fresh_messages(cipher, plaintext, examples, length, seed, STREAM_EVAL)
        # Rows per forward: enough to keep the per-step work of a long message worthwhile.
        rows = max(1, EVAL_POSITIONS // length)
        result = score(loaded.model, batch, loaded.device, chunk=rows)
        accuracy[str(length)] = result["accuracy"]
        message_accuracy[str(length)] = result["message_accuracy"]
        if "key_accuracy" in result:
            key_accuracy[str(length)] = result["key_accuracy"]
    result = {"accuracy": accuracy, "message_accuracy": message_accuracy, "examples": examples}
    if key_accuracy:
        result["key_accuracy"] = key_accuracy  # messages whose key the model named exactly
    if space is not None:
        result["key_mode"] = loaded.key_mode
        result["held_out_keys"] = space.holds_out
    return result


def sample_ciphertext(loaded: LoadedDecipherer) -> str | None:
    """A ciphertext to show off a freshly trained model: the seed's example if it fits."""
    cipher = loaded.cipher
    if cipher is None:
        return None
    text = cipher.encrypt(SEED_EXAMPLE)
    return text if not loaded.in_vocab.unknown_chars(text) else None
