"""The decipher task: learn a cipher from (ciphertext, plaintext) pairs, then decrypt.

Plain functions over typed configs — `train`, `evaluate`, `load`, `decrypt` — so that the
CLI is a thin layer and a notebook can call the same things.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

import rnnlab
from rnnlab import checkpoint as ckpt
from rnnlab.ciphers import Cipher, get_cipher
from rnnlab.data.batch import IGNORE_INDEX, Batch
from rnnlab.data.parallel import (
    STREAM_EVAL,
    CipherStream,
    PairsData,
    fresh_messages,
    pad_pairs,
    read_pairs,
    unseen_char_error,
)
from rnnlab.data.plaintext import plaintext_source
from rnnlab.device import resolve_device
from rnnlab.errors import UserError
from rnnlab.models.decipherer import Decipherer, DecipherModelConfig
from rnnlab.train import Callbacks, TrainConfig, Trainer
from rnnlab.vocab import Vocab

TASK = "decipher"
SEED_EXAMPLE = "THIS-IS-A-SECRET"  # the seed's example plaintext

# Key modes and plaintext sources that later work will fill in; named here so that the CLI
# accepts the documented flag values and says plainly what is not built yet.
KEY_MODES = ("fixed", "given", "unknown")


@dataclass
class DecipherDataConfig:
    cipher: str = "caesar"
    key: Any = None  # None: the family's default (13 for caesar)
    alphabet: str | None = None  # None: the family's default (A-Z plus '-' for caesar)
    key_mode: str = "fixed"
    plaintext: str = "random"
    pairs: str | None = None  # a plaintext<TAB>ciphertext file instead of a cipher
    seq_len: int = 32
    val_examples: int = 1000

    def __post_init__(self) -> None:
        if self.key_mode not in KEY_MODES:
            raise UserError(f"unknown --key-mode {self.key_mode!r}; use {', '.join(KEY_MODES)}")
        if self.key_mode != "fixed":
            raise UserError(f"--key-mode {self.key_mode} is not available yet; only 'fixed' is")
        if self.plaintext != "random":
            raise UserError(f"--plaintext {self.plaintext} is not available yet; only 'random' is")
        if self.seq_len < 1:
            raise UserError("--seq-len must be at least 1")
        if self.val_examples < 1:
            raise UserError("--val-examples must be at least 1")


@dataclass
class DecipherRun:
    data: DecipherDataConfig
    model: DecipherModelConfig
    train: TrainConfig


class DecipherTask:
    """Adapts a data source (cipher stream or pairs file) to the Trainer's TrainTask."""

    def __init__(self, source: CipherStream | PairsData, eval_batch: int = 512) -> None:
        self.source = source
        self.eval_batch = eval_batch

    def train_batch(self, step: int) -> Batch:
        return self.source.train_batch(step)

    def loss(self, model: Decipherer, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        logits, _ = model(batch.inputs, batch.lengths)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.targets.flatten())
        mask = batch.targets != IGNORE_INDEX
        correct = ((logits.argmax(-1) == batch.targets) & mask).sum()
        return loss, {"correct": float(correct), "count": float(mask.sum())}

    def evaluate(self, model: Decipherer) -> dict[str, float]:
        device = next(model.parameters()).device
        return score(model, self.source.val, device, self.eval_batch)


def score(model: Decipherer, batch: Batch, device: torch.device, chunk: int = 512) -> dict:
    """Loss, character accuracy and whole-message accuracy of `model` on `batch`."""
    total_loss = correct = chars = exact = 0.0
    model.eval()
    with torch.no_grad():
        for start in range(0, len(batch.inputs), chunk):
            rows = slice(start, start + chunk)
            inputs = batch.inputs[rows].to(device)
            targets = batch.targets[rows].to(device)
            lengths = batch.lengths[rows] if batch.lengths is not None else None
            logits, _ = model(inputs, lengths)
            mask = targets != IGNORE_INDEX
            total_loss += float(
                F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="sum")
            )
            hit = (logits.argmax(-1) == targets) | ~mask
            correct += float((hit & mask).sum())
            chars += float(mask.sum())
            exact += float(hit.all(dim=1).sum())
    return {
        "loss": total_loss / chars,
        "accuracy": correct / chars,
        "message_accuracy": exact / len(batch.inputs),
        "messages": len(batch.inputs),
    }


# -- building from configs ------------------------------------------------------------


def build_source(data: DecipherDataConfig, batch_size: int, seed: int):
    if data.pairs is not None:
        return PairsData(data.pairs, batch_size, seed)
    cipher = get_cipher(data.cipher, key=data.key, alphabet=data.alphabet)
    plaintext = plaintext_source(data.plaintext, cipher.alphabet)
    return CipherStream(cipher, data.seq_len, batch_size, seed, data.val_examples, plaintext)


def source_vocabs(source: CipherStream | PairsData) -> tuple[Vocab, Vocab]:
    if isinstance(source, PairsData):
        return source.in_vocab, source.out_vocab
    return source.vocab, source.vocab


def run_config(run: DecipherRun, source: CipherStream | PairsData) -> dict[str, Any]:
    """What goes into config.json: enough to rebuild the model, the data and the run."""
    in_vocab, out_vocab = source_vocabs(source)
    data = asdict(run.data)
    if isinstance(source, CipherStream):
        data["cipher_spec"] = source.cipher.spec()  # canonical key and alphabet
    return {
        "task": TASK,
        "rnnlab_version": rnnlab.__version__,
        "data": data,
        "model": run.model.to_dict(),
        "train": run.train.to_dict(),
        "in_vocab": in_vocab.to_dict(),
        "out_vocab": out_vocab.to_dict(),
    }


def train(
    run: DecipherRun,
    out: str | Path,
    resume: bool = False,
    callbacks: Callbacks | None = None,
    steps: int | None = None,
) -> tuple[Decipherer, dict[str, Any]]:
    """Train (or resume) a decipher model into `out`; returns the model and last eval.

    On resume the run is rebuilt from the saved config.json (flags describing the model or
    data are ignored); `steps` may extend it.
    """
    out = Path(out)
    run = ckpt.start_or_resume(out, resume, run, steps, TASK, run_from_config)
    source = build_source(run.data, run.train.batch_size, run.train.seed)
    in_vocab, out_vocab = source_vocabs(source)
    run.model.in_vocab_size, run.model.out_vocab_size = len(in_vocab), len(out_vocab)
    torch.manual_seed(run.train.seed)  # the model's initial weights follow the seed
    model = Decipherer(run.model)
    trainer = Trainer(
        model, DecipherTask(source), run.train, out, run_config(run, source), callbacks
    )
    result = trainer.fit(resume=resume)
    return model, result


def run_from_config(config: dict[str, Any]) -> DecipherRun:
    try:
        data = {k: v for k, v in config["data"].items() if k != "cipher_spec"}
        return DecipherRun(
            data=DecipherDataConfig(**data),
            model=DecipherModelConfig(**config["model"]),
            train=TrainConfig(**config["train"]),
        )
    except (KeyError, TypeError) as e:
        raise UserError(f"config.json does not describe a decipher run ({e})") from None


# -- using a trained model ------------------------------------------------------------


@dataclass
class LoadedDecipherer:
    model: Decipherer
    config: dict[str, Any]
    in_vocab: Vocab
    out_vocab: Vocab
    device: torch.device

    @property
    def cipher(self) -> Cipher | None:
        spec = self.config["data"].get("cipher_spec")
        return get_cipher(**spec) if spec else None


def load(directory: str | Path, device: str = "auto") -> LoadedDecipherer:
    directory = Path(directory)
    config = ckpt.read_config(directory)
    ckpt.require_task(config, directory, TASK)
    run = run_from_config(config)
    model = Decipherer(run.model)
    ckpt.load_weights(directory, model)
    dev = resolve_device(device)
    model.to(dev).eval()
    return LoadedDecipherer(
        model,
        config,
        Vocab.from_dict(config["in_vocab"]),
        Vocab.from_dict(config["out_vocab"]),
        dev,
    )


def decrypt(loaded: LoadedDecipherer, text: str, chunk: int = 4096) -> str:
    """Decrypt one line. A unidirectional model streams long text through in chunks,
    carrying its state, so memory does not grow with length."""
    if not text:
        return ""
    if loaded.in_vocab.unknown_chars(text):
        raise unseen_char_error(text, loaded.in_vocab)
    ids = torch.from_numpy(loaded.in_vocab.encode(text)).unsqueeze(0).to(loaded.device)
    step = ids.shape[1] if loaded.model.config.bidirectional else chunk
    state = None
    pieces = []
    with torch.no_grad():
        for start in range(0, ids.shape[1], step):
            logits, state = loaded.model(ids[:, start : start + step], state=state)
            pieces.append(logits.argmax(-1)[0].cpu())
    return loaded.out_vocab.decode(torch.cat(pieces).tolist())


def evaluate(
    loaded: LoadedDecipherer,
    lengths: list[int],
    examples: int = 1000,
    seed: int = 1234,
    pairs: str | None = None,
) -> dict[str, Any]:
    """Accuracy on fresh messages at each length (or on a pairs file)."""
    if pairs is not None:
        batch = pad_pairs(read_pairs(pairs), loaded.in_vocab, loaded.out_vocab)
        result = score(loaded.model, batch, loaded.device)
        return {
            "accuracy": {"pairs": result["accuracy"]},
            "message_accuracy": {"pairs": result["message_accuracy"]},
            "examples": result["messages"],
        }
    cipher = loaded.cipher
    if cipher is None:
        raise UserError("this model was trained on a pairs file; evaluate it with --pairs FILE")
    plaintext = plaintext_source(loaded.config["data"].get("plaintext", "random"), cipher.alphabet)
    accuracy, message_accuracy = {}, {}
    for length in lengths:
        batch = fresh_messages(cipher, plaintext, examples, length, seed, STREAM_EVAL)
        result = score(loaded.model, batch, loaded.device, chunk=max(1, 65536 // length))
        accuracy[str(length)] = result["accuracy"]
        message_accuracy[str(length)] = result["message_accuracy"]
    return {"accuracy": accuracy, "message_accuracy": message_accuracy, "examples": examples}


def sample_ciphertext(loaded: LoadedDecipherer) -> str | None:
    """A ciphertext to show off a freshly trained model: the seed's example if it fits."""
    cipher = loaded.cipher
    if cipher is None:
        return None
    text = cipher.encrypt(SEED_EXAMPLE)
    return text if not loaded.in_vocab.unknown_chars(text) else None
