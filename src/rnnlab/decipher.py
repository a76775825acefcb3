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
from rnnlab.choices import KEY_MODES
from rnnlab.ciphers import Alphabet, Cipher, cipher_class, get_cipher
from rnnlab.ciphers.keygen import KeySpace, key_symbols, key_text, parse_key_length
from rnnlab.data.batch import IGNORE_INDEX, Batch
from rnnlab.data.keyed import KeyedStream, fresh_keyed_messages
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
from rnnlab.models.feedback import FeedbackDecipherer, FeedbackModelConfig
from rnnlab.models.keyed import KeyedDecipherer, KeyedModelConfig
from rnnlab.models.twopass import TwoPassDecipherer, TwoPassModelConfig, same_keys
from rnnlab.train import Callbacks, TrainConfig, Trainer
from rnnlab.vocab import Vocab

TASK = "decipher"
SEED_EXAMPLE = "THIS-IS-A-SECRET"  # the seed's example plaintext

# The model kinds, recorded in config.json as "architecture" (absent: the tagger, which is
# all that checkpoints from before key modes hold).
ModelConfig = DecipherModelConfig | KeyedModelConfig | FeedbackModelConfig | TwoPassModelConfig
Model = Decipherer | KeyedDecipherer | FeedbackDecipherer | TwoPassDecipherer
ARCHITECTURES: dict[str, tuple[type, type]] = {
    "tagger": (DecipherModelConfig, Decipherer),
    "keyed": (KeyedModelConfig, KeyedDecipherer),
    "feedback": (FeedbackModelConfig, FeedbackDecipherer),
    "twopass": (TwoPassModelConfig, TwoPassDecipherer),
}


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
    key_length: str | None = None  # given/unknown word keys: "LO-HI" symbols (default 3-12)

    def __post_init__(self) -> None:
        if self.key_mode not in KEY_MODES:
            raise UserError(f"unknown --key-mode {self.key_mode!r}; use {', '.join(KEY_MODES)}")
        if self.key_mode != "fixed":
            if self.pairs is not None:
                raise UserError(f"--key-mode {self.key_mode} draws keys; it cannot use --pairs")
            if self.key is not None:
                raise UserError(
                    f"--key-mode {self.key_mode} draws a random key per message; drop --key"
                )
            self.key_space()  # refuse a family without random keys now, not mid-training
        elif self.key_length is not None:
            raise UserError("--key-length is for --key-mode given/unknown (random keys)")
        if self.key_length is not None:
            parse_key_length(self.key_length)
        if self.seq_len < 1:
            raise UserError("--seq-len must be at least 1")
        if self.val_examples < 1:
            raise UserError("--val-examples must be at least 1")

    def key_space(self) -> KeySpace:
        cls = cipher_class(self.cipher)
        alphabet = self.alphabet if self.alphabet is not None else cls.default_alphabet
        return KeySpace(self.cipher, alphabet, parse_key_length(self.key_length))


@dataclass
class DecipherRun:
    data: DecipherDataConfig
    model: ModelConfig
    train: TrainConfig

    @property
    def architecture(self) -> str:
        return next(a for a, (cfg, _) in ARCHITECTURES.items() if isinstance(self.model, cfg))

    def __post_init__(self) -> None:
        keyed = self.architecture == "keyed"
        if keyed != (self.data.key_mode == "given"):
            raise UserError(
                "--key-mode given trains the keyed model (the key as a second input), and "
                "the keyed model needs --key-mode given"
            )
        if self.architecture == "twopass" and self.data.key_mode != "unknown":
            raise UserError("--two-pass infers each message's key: it needs --key-mode unknown")
        symbol = getattr(self.model, "pooling", None) == "symbol"
        if symbol and self.data.cipher != "substitution":
            raise UserError(
                "--key-pooling symbol reads a key that is a table of ciphertext symbols: "
                f"substitution's, not {self.data.cipher}'s"
            )
        if self.architecture != "tagger" and self.data.pairs is not None:
            raise UserError("a pairs file trains the plain tagger only")


Source = CipherStream | PairsData | KeyedStream
TIME_CHUNK = 512  # characters per piece when streaming a long message through a model
BIDI_WINDOW = 2048  # characters a bidirectional tagger reads at once (memory bound)
KEY_WINDOW = 2048  # characters the two-pass model reads to infer a message's key
EVAL_POSITIONS = 2**17  # message positions per evaluation forward pass (memory bound)


class DecipherTask:
    """Adapts a data source (cipher stream or pairs file) to the Trainer's TrainTask."""

    def __init__(self, source: Source, eval_batch: int = 512) -> None:
        self.source = source
        self.eval_batch = eval_batch

    def train_batch(self, step: int) -> Batch:
        return self.source.train_batch(step)

    def loss(self, model: Model, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        logits = batch_logits(model, batch)
        loss = F.cross_entropy(logits.flatten(0, 1), batch.targets.flatten())
        mask = batch.targets != IGNORE_INDEX
        stats = {"count": float(mask.sum())}
        if not isinstance(model, TwoPassDecipherer):
            # (A two-pass model's logits here are pass 2 under the *true* key, which says
            # nothing of how well it decrypts; its validation record has that.)
            stats["correct"] = float(((logits.argmax(-1) == batch.targets) & mask).sum())
        else:
            # Both passes learn from every batch: pass 2 decrypts under the true key
            # (batch_logits), pass 1 learns to name that key.
            loss = loss + model.key_loss(batch.inputs, *require_keys(batch))
            if batch.uniform is not None:  # pass 2 applies the same keys to random text
                drill = batch_logits(model, batch.uniform)
                loss = loss + F.cross_entropy(drill.flatten(0, 1), batch.uniform.targets.flatten())
        return loss, stats

    def evaluate(self, model: Model) -> dict[str, float]:
        device = next(model.parameters()).device
        return score(model, self.source.val, device, self.eval_batch)


def require_keys(batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
    if batch.keys is None or batch.key_lengths is None:
        raise UserError("this model learns from each message's key, and the batch has none")
    return batch.keys, batch.key_lengths


def batch_logits(model: Model, batch: Batch) -> torch.Tensor:
    """Logits for every position, as in training (the feedback model reads the true
    previous plaintext and the two-pass model decrypts under the true key: teacher
    forcing)."""
    if isinstance(model, (KeyedDecipherer, TwoPassDecipherer)):
        return model(batch.inputs, *require_keys(batch))[0]
    if isinstance(model, FeedbackDecipherer):
        # Right padding (IGNORE_INDEX) only ever follows the real plaintext; any id will do.
        return model(batch.inputs, batch.targets.clamp(min=0))[0]
    return model(batch.inputs, batch.lengths)[0]


def stream_logits(
    model: Model,
    inputs: torch.Tensor,
    keys: torch.Tensor | None = None,
    key_lengths: torch.Tensor | None = None,
    lengths: torch.Tensor | None = None,
    chunk: int = TIME_CHUNK,
) -> torch.Tensor:
    """Logits of a tagger (plain or keyed) for `inputs`, streamed through in
    `chunk`-character pieces carrying the recurrent state, so that the state never holds
    more than one piece. Right-padded rows are read whole; a bidirectional tagger, whose
    backward pass starts at the end, reads windows (see `bidirectional_windows`)."""
    if isinstance(model, Decipherer) and lengths is not None:
        return model(inputs, lengths)[0]
    if isinstance(model, Decipherer) and model.config.bidirectional:
        return bidirectional_windows(model, inputs)
    if isinstance(model, TwoPassDecipherer):
        # Whatever keys the caller holds, the two-pass model decrypts under its own guess,
        # made once per message from its first KEY_WINDOW characters.
        keys, key_lengths = guess_keys(model, inputs, lengths)
        model = model.decipherer
    if isinstance(model, KeyedDecipherer) and (keys is None or key_lengths is None):
        raise UserError("this model needs the key: pass --key KEY")
    state: Any = None
    pieces = []
    for start in range(0, inputs.shape[1], chunk):
        piece = inputs[:, start : start + chunk]
        if isinstance(model, KeyedDecipherer):
            logits, state = model(piece, keys, key_lengths, state)
        else:
            logits, state = model(piece, state=state)
        pieces.append(logits)
    return torch.cat(pieces, dim=1)


def guess_keys(
    model: TwoPassDecipherer, inputs: torch.Tensor, lengths: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The two-pass model's key for each row, read from the row's first KEY_WINDOW
    characters — its real ones only, when `lengths` marks right-padded rows (the reader is
    bidirectional: padding would reach every position). Pass 2 reads left to right, so
    padding after a row's end never changes its real positions."""
    if lengths is None:
        return model.guess_key(inputs[:, :KEY_WINDOW])
    guesses = [
        model.guess_key(inputs[row : row + 1, : min(int(n), KEY_WINDOW)])
        for row, n in enumerate(lengths)
    ]
    return torch.cat([k for k, _ in guesses]), torch.cat([n for _, n in guesses])


def bidirectional_windows(model: Decipherer, inputs: torch.Tensor) -> torch.Tensor:
    """A bidirectional tagger's logits, BIDI_WINDOW characters at a time.

    Each window is decrypted on its own, so memory stays bounded however long the text;
    every key an unknown-key model infers is one key per message, which any long enough
    window shows again. The last window is moved back to end at the text's end (overlapping
    the one before) rather than left short, so no piece has too little text to go on.
    """
    length = inputs.shape[1]
    if length <= BIDI_WINDOW:
        return model(inputs)[0]
    pieces = []
    for start in range(0, length, BIDI_WINDOW):
        begin = min(start, length - BIDI_WINDOW)
        logits = model(inputs[:, begin : begin + BIDI_WINDOW])[0]
        pieces.append(logits[:, start - begin :])
    return torch.cat(pieces, dim=1)


def predict(
    model: Model,
    inputs: torch.Tensor,
    keys: torch.Tensor | None = None,
    key_lengths: torch.Tensor | None = None,
    lengths: torch.Tensor | None = None,
    chunk: int = TIME_CHUNK,
) -> torch.Tensor:
    """Plaintext ids as the model decrypts in use: greedy for the feedback model (which
    carries its state and last outputs from piece to piece), streamed for the taggers."""
    if not isinstance(model, FeedbackDecipherer):
        return stream_logits(model, inputs, keys, key_lengths, lengths, chunk).argmax(-1)
    state: Any = None
    pieces = []
    for start in range(0, inputs.shape[1], chunk):
        ids, state = model.decode(inputs[:, start : start + chunk], state)
        pieces.append(ids)
    return torch.cat(pieces, dim=1)


def score(model: Model, batch: Batch, device: torch.device, chunk: int = 512) -> dict:
    """Loss (teacher-forced for the feedback model), and character and whole-message
    accuracy of the model's own decryption of `batch`, `chunk` messages at a time."""
    total_loss = correct = chars = exact = keys_right = 0.0
    model.eval()

    def rows_of(t: torch.Tensor | None, rows: slice) -> torch.Tensor | None:
        return None if t is None else t[rows].to(device)

    with torch.no_grad():
        for start in range(0, len(batch.inputs), chunk):
            rows = slice(start, start + chunk)
            inputs, targets = batch.inputs[rows].to(device), batch.targets[rows].to(device)
            keys, key_lengths = rows_of(batch.keys, rows), rows_of(batch.key_lengths, rows)
            lengths = batch.lengths[rows] if batch.lengths is not None else None
            if isinstance(model, FeedbackDecipherer):
                logits = model(inputs, targets.clamp(min=0))[0]
                predicted = predict(model, inputs)
            elif isinstance(model, TwoPassDecipherer):
                # Under the key it names, never the batch's (as stream_logits does), read
                # once here so that the same guess is also scored against the true key.
                guessed = guess_keys(model, inputs, lengths)
                logits = stream_logits(model.decipherer, inputs, *guessed)
                predicted = logits.argmax(-1)
                if keys is not None:
                    keys_right += float(same_keys(*guessed, keys, key_lengths).sum())
            else:  # the taggers' decryption is the argmax of these same logits
                logits = stream_logits(model, inputs, keys, key_lengths, lengths)
                predicted = logits.argmax(-1)
            mask = targets != IGNORE_INDEX
            total_loss += float(
                F.cross_entropy(logits.flatten(0, 1), targets.flatten(), reduction="sum")
            )
            hit = (predicted == targets) | ~mask
            correct += float((hit & mask).sum())
            chars += float(mask.sum())
            exact += float(hit.all(dim=1).sum())
    result = {
        "loss": total_loss / chars,
        "accuracy": correct / chars,
        "message_accuracy": exact / len(batch.inputs),
        "messages": len(batch.inputs),
    }
    if isinstance(model, TwoPassDecipherer) and batch.keys is not None:
        result["key_accuracy"] = keys_right / len(batch.inputs)  # pass 1 named the key
    return result


# -- building from configs ------------------------------------------------------------


def build_source(data: DecipherDataConfig, batch_size: int, seed: int) -> Source:
    if data.pairs is not None:
        return PairsData(data.pairs, batch_size, seed)
    if data.key_mode != "fixed":
        space = data.key_space()
        plaintext = plaintext_source(data.plaintext, space_alphabet(space))
        return KeyedStream(space, plaintext, data.seq_len, batch_size, seed, data.val_examples)
    cipher = get_cipher(data.cipher, key=data.key, alphabet=data.alphabet)
    plaintext = plaintext_source(data.plaintext, cipher.alphabet)
    return CipherStream(cipher, data.seq_len, batch_size, seed, data.val_examples, plaintext)


def space_alphabet(space: KeySpace) -> Alphabet:
    return Alphabet(space.alphabet)


def source_vocabs(source: Source) -> tuple[Vocab, Vocab]:
    if isinstance(source, PairsData):
        return source.in_vocab, source.out_vocab
    return source.vocab, source.vocab


def build_model(config: ModelConfig) -> Model:
    for config_cls, model_cls in ARCHITECTURES.values():
        if isinstance(config, config_cls):
            return model_cls(config)
    raise TypeError(f"not a decipher model config: {config!r}")


def run_config(run: DecipherRun, source: Source) -> dict[str, Any]:
    """What goes into config.json: enough to rebuild the model, the data and the run."""
    in_vocab, out_vocab = source_vocabs(source)
    data = asdict(run.data)
    if isinstance(source, CipherStream):
        data["cipher_spec"] = source.cipher.spec()  # canonical key and alphabet
    elif isinstance(source, KeyedStream):
        data["cipher_spec"] = source.spec()  # family and alphabet; keys are per message
        data["held_out_keys"] = source.space.holds_out
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


def train(
    run: DecipherRun,
    out: str | Path,
    resume: bool = False,
    callbacks: Callbacks | None = None,
    steps: int | None = None,
) -> tuple[Model, dict[str, Any]]:
    """Train (or resume) a decipher model into `out`; returns the model and last eval.

    On resume the run is rebuilt from the saved config.json (flags describing the model or
    data are ignored); `steps` may extend it.
    """
    out = Path(out)
    run = ckpt.start_or_resume(out, resume, run, steps, TASK, run_from_config)
    source = build_source(run.data, run.train.batch_size, run.train.seed)
    in_vocab, out_vocab = source_vocabs(source)
    run.model.in_vocab_size, run.model.out_vocab_size = len(in_vocab), len(out_vocab)
    if isinstance(run.model, (KeyedModelConfig, TwoPassModelConfig)) and isinstance(
        source, KeyedStream
    ):
        run.model.key_vocab_size = len(source.space.alphabet)
        run.model.max_key_len = source.space.max_symbols
        if isinstance(run.model, TwoPassModelConfig):
            run.model.min_key_len = source.space.min_symbols
            if run.model.feed_location is None:
                run.model.feed_location = run.model.max_key_len > 1
            source.uniform = run.model.uniform_drill
    torch.manual_seed(run.train.seed)  # the model's initial weights follow the seed
    model = build_model(run.model)
    trainer = Trainer(
        model, DecipherTask(source), run.train, out, run_config(run, source), callbacks
    )
    result = trainer.fit(resume=resume)
    return model, result


DERIVED_DATA_FIELDS = ("cipher_spec", "held_out_keys")  # recorded for people, not inputs


def run_from_config(config: dict[str, Any]) -> DecipherRun:
    architecture = config.get("architecture", "tagger")
    if architecture not in ARCHITECTURES:
        raise UserError(f"config.json names an unknown decipher architecture {architecture!r}")
    config_cls = ARCHITECTURES[architecture][0]
    try:
        data = {k: v for k, v in config["data"].items() if k not in DERIVED_DATA_FIELDS}
        return DecipherRun(
            data=DecipherDataConfig(**data),
            model=config_cls(**config["model"]),
            train=TrainConfig(**config["train"]),
        )
    except (KeyError, TypeError) as e:
        raise UserError(f"config.json does not describe a decipher run ({e})") from None


# -- using a trained model ------------------------------------------------------------


@dataclass
class LoadedDecipherer:
    model: Model
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
    directory = Path(directory)
    config = ckpt.read_config(directory)
    ckpt.require_task(config, directory, TASK)
    run = run_from_config(config)
    model = build_model(run.model)
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


def key_tensors(
    loaded: LoadedDecipherer, key: str | None
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The key as the model reads it, checked against how the model was trained."""
    space = loaded.key_space
    if loaded.key_mode != "given":
        if key is not None:
            what = "one fixed key" if loaded.key_mode == "fixed" else "unknown keys"
            raise UserError(f"this model was trained on {what}; it takes no --key")
        return None, None
    if key is None:
        raise UserError(f"this model decrypts under a key you give: pass --key ({space.family})")
    cipher = get_cipher(space.family, key=key, alphabet=space.alphabet)
    symbols = key_symbols(cipher)
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
        predicted = predict(loaded.model, ids, keys, key_lengths, chunk=chunk)
    return loaded.out_vocab.decode(predicted[0].cpu().tolist())


def named_key(loaded: LoadedDecipherer, text: str) -> str:
    """The key a two-pass model names for `text`, in the family's --key syntax."""
    model = loaded.model
    if not isinstance(model, TwoPassDecipherer):
        raise UserError("only a --two-pass model names the key it decrypts under")
    if not text:
        raise UserError("an empty line has no key to name")
    with torch.no_grad():
        keys, lengths = guess_keys(model, encode_line(loaded, text))
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
        batch = pad_pairs(read_pairs(pairs), loaded.in_vocab, loaded.out_vocab)
        result = score(loaded.model, batch, loaded.device)
        return {
            "accuracy": {"pairs": result["accuracy"]},
            "message_accuracy": {"pairs": result["message_accuracy"]},
            "examples": result["messages"],
        }
    space = loaded.key_space
    cipher = loaded.cipher
    if cipher is None and space is None:
        raise UserError("this model was trained on a pairs file; evaluate it with --pairs FILE")
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
