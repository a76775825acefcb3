"""What a decipher run is: its data, model and training configs, and how the options a
person chooses become one (`build_run`), with the rules for which options combine.

The model configs live with their models (`rnnlab.models`); the vocabulary and key sizes
in them are filled in from the data when training starts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from rnnlab.choices import KEY_MODES
from rnnlab.ciphers import SEED_ALPHABET, cipher_class
from rnnlab.ciphers.keygen import KeySpace, parse_key_length
from rnnlab.errors import UserError
from rnnlab.models.base import DecipherConfig
from rnnlab.models.feedback import FeedbackModelConfig
from rnnlab.models.keyed import KeyedModelConfig
from rnnlab.models.registry import model_class
from rnnlab.models.rotor import RotorModelConfig
from rnnlab.models.tagger import TaggerConfig
from rnnlab.models.twopass import TwoPassModelConfig
from rnnlab.train import TrainConfig

__all__ = [
    "KEY_MODES",
    "TASK",
    "DecipherDataConfig",
    "DecipherOptions",
    "DecipherRun",
    "build_run",
    "fields_of_options",
    "model_config",
    "run_from_config",
]

TASK = "decipher"
# The rotor model's curriculum unless --curriculum says otherwise: without one it does not
# learn at all (the Enigma stayed at chance), and 50 steps at each of 1, 2, 4, … letters
# beat 20 and 100 (benchmarks/decipher_families/README.md, issue 17).
ROTOR_CURRICULUM = 50

# What --arch chooses among under --key-mode given (None: rotor for enigma, else keyed).
GIVEN_ARCHS = ("keyed", "rotor")


# `decipher train` with no options is the seed task: caesar, key 13, over A-Z plus '-'.
SEED_CIPHER = "caesar"


@dataclass
class DecipherDataConfig:
    cipher: str = "caesar"
    key: Any = None  # None: the family's default (13 for caesar)
    # None: caesar's is the seed task's A-Z plus '-' here (recorded in config.json), every
    # other family's its own
    alphabet: str | None = None
    key_mode: str = "fixed"
    plaintext: str = "random"
    pairs: str | None = None  # a plaintext<TAB>ciphertext file instead of a cipher
    seq_len: int = 32
    val_examples: int = 1000
    key_length: str | None = None  # given/unknown word keys: "LO-HI" symbols (default 3-12)
    # given/unknown: train on messages of 1, 2, 4, … up to seq_len characters, this many
    # steps at each length (the batch grows to keep characters per step); 0: seq_len only
    curriculum: int = 0

    def __post_init__(self) -> None:
        if self.alphabet is None and self.cipher == SEED_CIPHER and self.pairs is None:
            self.alphabet = SEED_ALPHABET
        if self.key_mode not in KEY_MODES:
            raise UserError(f"unknown --key-mode {self.key_mode!r}; use {', '.join(KEY_MODES)}")
        if self.key_mode != "fixed":
            if self.pairs is not None:
                raise UserError(f"--key-mode {self.key_mode} draws keys; it cannot use --pairs")
            if self.key is not None and not cipher_class(self.cipher).fixed_settings:
                raise UserError(
                    f"--key-mode {self.key_mode} draws a random key per message; drop --key"
                )
            self.key_space()  # refuse a family without random keys now, not mid-training
        elif self.key_length is not None:
            raise UserError("--key-length is for --key-mode given/unknown (random keys)")
        elif self.curriculum:
            raise UserError("--curriculum is for --key-mode given/unknown (random keys)")
        if self.curriculum < 0:
            raise UserError("--curriculum must be 0 or more steps")
        if self.key_length is not None:
            parse_key_length(self.key_length)
        if self.seq_len < 1:
            raise UserError("--seq-len must be at least 1")
        if self.val_examples < 1:
            raise UserError("--val-examples must be at least 1")

    def key_space(self) -> KeySpace:
        cls = cipher_class(self.cipher)
        alphabet = self.alphabet if self.alphabet is not None else cls.default_alphabet
        key = None if self.key is None else str(self.key)
        return KeySpace(self.cipher, alphabet, parse_key_length(self.key_length), key)


@dataclass
class DecipherRun:
    data: DecipherDataConfig
    model: DecipherConfig
    train: TrainConfig

    @property
    def architecture(self) -> str:
        return self.model.architecture

    def __post_init__(self) -> None:
        keyed = model_class(self.architecture, TASK).needs_keys
        if keyed != (self.data.key_mode == "given"):
            raise UserError(
                "--key-mode given trains a model that reads the key as a second input "
                f"({', '.join(GIVEN_ARCHS)}), and those need --key-mode given"
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


DERIVED_DATA_FIELDS = ("cipher_spec", "held_out_keys")  # recorded for people, not inputs


def run_from_config(config: dict[str, Any]) -> DecipherRun:
    """The run a checkpoint's config.json describes (no "architecture": the tagger, all
    that checkpoints from before key modes hold)."""
    config_cls = model_class(config.get("architecture", "tagger"), TASK).config_class
    try:
        data = {k: v for k, v in config["data"].items() if k not in DERIVED_DATA_FIELDS}
        spec = config["data"].get("cipher_spec") or {}
        if data.get("alphabet") is None and "alphabet" in spec:
            # the alphabet the run really used: a family's default may have changed since
            # (caesar's was the seed task's 27 symbols before it became A-Z)
            data["alphabet"] = spec["alphabet"]
        return DecipherRun(
            data=DecipherDataConfig(**data),
            model=config_cls(**config["model"]),
            train=TrainConfig(**config["train"]),
        )
    except (KeyError, TypeError) as e:
        raise UserError(f"config.json does not describe a decipher run ({e})") from None


# -- from options to a run ------------------------------------------------------------


@dataclass
class DecipherOptions:
    """Everything a person may choose for `decipher train`, each with its default. The
    names are the CLI's flags (`key_mode` is --key-mode)."""

    cipher: str = "caesar"
    key: Any = None
    alphabet: str | None = None  # None: the seed task's A-Z plus '-' for caesar, else the family's
    key_mode: str = "fixed"
    key_length: str | None = None
    plaintext: str = "random"
    pairs: str | None = None
    seq_len: int = 32
    val_examples: int = 1000
    curriculum: int | None = None  # None: ROTOR_CURRICULUM for the rotor model, else none
    # the model: a tagger unless one of the next four asks for another kind
    two_pass: bool = False
    key_pooling: str = "attention"
    feed_location: bool | None = None  # None: on for given keys, decided by key length
    feedback: int = 0
    arch: str | None = None  # given mode: keyed or rotor (None: rotor for enigma, else keyed)
    model: str = "lstm"
    impl: str = "torch"
    embedding: int = 32
    hidden: int | None = None  # None: 128 for the tagger, 256 for the keyed and feedback
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0
    # training
    steps: int = 300
    max_time: float | None = None  # minutes; stops before --steps if it runs out first
    batch_size: int = 64
    lr: float = 3e-3
    grad_clip: float = 1.0
    schedule: str = "constant"
    eval_every: int = 100
    seed: int = 0
    device: str = "auto"
    precision: str = "fp32"


TAGGER_DEFAULTS = DecipherOptions()

# Options whose config fields have other names (the two-pass model's --hidden and --layers
# size its key reader), or that choose the model itself.
OPTION_FIELDS: dict[str, tuple[str, ...]] = {
    "hidden": ("hidden", "reader_hidden"),
    "layers": ("layers", "reader_layers"),
    "key_pooling": ("pooling",),
    "feedback": ("window", "architecture"),
    "two_pass": ("architecture",),
    "key_mode": ("key_mode", "architecture"),
    "arch": ("architecture",),
    "max_time": ("max_time_min",),
}


def fields_of_options(names: set[str]) -> frozenset[str]:
    """The run's config fields that the named options set (for checks on resume)."""
    return frozenset(f for name in names for f in OPTION_FIELDS.get(name, (name,)))


def build_run(options: DecipherOptions) -> DecipherRun:
    """The run `options` ask for, or a UserError saying which options do not combine."""
    o = options
    train = TrainConfig(
        steps=o.steps,
        max_time_min=o.max_time,
        batch_size=o.batch_size,
        lr=o.lr,
        grad_clip=o.grad_clip,
        schedule=o.schedule,
        eval_every=o.eval_every,
        seed=o.seed,
        device=o.device,
        precision=o.precision,
    )
    model = model_config(o)
    data_names = {f.name for f in fields(DecipherDataConfig)}
    data_options = {k: getattr(o, k) for k in data_names}
    if o.curriculum is None:
        data_options["curriculum"] = ROTOR_CURRICULUM if model.architecture == "rotor" else 0
    data = DecipherDataConfig(**data_options)
    return DecipherRun(data=data, model=model, train=train)


def model_config(o: DecipherOptions) -> DecipherConfig:
    """The model the options ask for; its vocabulary (and key) sizes come from the data."""
    tagger_only = {
        f"--{name}": getattr(o, name) != getattr(TAGGER_DEFAULTS, name)
        for name in ("model", "layers", "bidirectional", "dropout", "impl")
    }
    if o.two_pass:
        return two_pass_config(o, tagger_only)
    if o.key_pooling != "attention":
        raise UserError("--key-pooling is for --two-pass")
    special = None
    if o.key_mode == "given":
        special = "--key-mode given"
    elif o.feedback:
        special = "--feedback"
    if special:
        used = [flag for flag, on in tagger_only.items() if on]
        if used:
            raise UserError(f"{special} trains its own one-layer LSTM; drop {', '.join(used)}")
        if o.key_mode == "given" and o.feedback:
            raise UserError("--feedback is not available with --key-mode given")
    if o.feed_location is not None and o.key_mode != "given":
        raise UserError("--feed-location is for --key-mode given and --two-pass")
    if o.arch is not None and (o.key_mode != "given" or o.arch not in GIVEN_ARCHS):
        raise UserError(f"--arch is for --key-mode given: one of {', '.join(GIVEN_ARCHS)}")
    hidden = o.hidden if o.hidden is not None else (256 if special else 128)
    arch = o.arch or ("rotor" if o.cipher == "enigma" else "keyed")
    if o.key_mode == "given" and arch == "rotor":
        if o.hidden is not None or o.feed_location is not None or o.embedding != 32:
            raise UserError("--arch rotor has no LSTM: drop --hidden, --embedding, --feed-location")
        return RotorModelConfig(start="key", gates="odometer")
    if o.key_mode == "given":
        return KeyedModelConfig(
            embedding=o.embedding, hidden=hidden, feed_location=o.feed_location is not False
        )
    if o.feedback:
        return FeedbackModelConfig(window=o.feedback, embedding=o.embedding, hidden=hidden)
    return TaggerConfig(
        model=o.model,
        embedding=o.embedding,
        hidden=hidden,
        layers=o.layers,
        bidirectional=o.bidirectional,
        dropout=o.dropout,
        impl=o.impl,
    )


def two_pass_config(o: DecipherOptions, tagger_only: dict[str, bool]) -> TwoPassModelConfig:
    """A bidirectional key reader (`layers` deep, `hidden` wide) and the keyed model as
    pass 2."""
    if o.key_mode != "unknown":
        raise UserError("--two-pass infers each message's key: it needs --key-mode unknown")
    if o.feedback:
        raise UserError("--feedback is not available with --two-pass")
    used = [f for f, on in tagger_only.items() if on and f not in ("--layers", "--bidirectional")]
    if used:
        raise UserError(f"--two-pass builds its own LSTMs; drop {', '.join(used)}")
    return TwoPassModelConfig(
        embedding=o.embedding,
        reader_hidden=o.hidden if o.hidden is not None else 128,
        reader_layers=o.layers,
        feed_location=o.feed_location,
        pooling=o.key_pooling,
    )
