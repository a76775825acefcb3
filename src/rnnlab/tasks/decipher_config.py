"""What a decipher run is: its data, model and training configs, and how the options a
person chooses become one (`build_run`), with the rules for which options combine.

The model configs live with their models (`rnnlab.models`); the vocabulary and key sizes
in them are filled in from the data when training starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
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
from rnnlab.options import ARCHITECTURES, DECIPHER, Options, architecture_of
from rnnlab.options.decipher import ARCH_CHOOSERS
from rnnlab.train import TrainConfig

__all__ = [
    "KEY_MODES",
    "TASK",
    "DecipherDataConfig",
    "DecipherRun",
    "build_run",
    "model_config",
    "options_of_config",
    "run_from_config",
]

TASK = "decipher"


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
            raise UserError(f"unknown `key_mode` {self.key_mode!r}; use {', '.join(KEY_MODES)}")
        if self.key_mode != "fixed":
            if self.pairs is not None:
                raise UserError(f"`key_mode` {self.key_mode} draws keys; it cannot use `pairs`")
            if self.key is not None and not cipher_class(self.cipher).fixed_settings:
                raise UserError(
                    f"`key_mode` {self.key_mode} draws a random key per message; drop `key`"
                )
            self.key_space()  # refuse a family without random keys now, not mid-training
        elif self.key_length is not None:
            raise UserError("`key_length` is for `key_mode` given or unknown (random keys)")
        elif self.curriculum:
            raise UserError("`curriculum` is for `key_mode` given or unknown (random keys)")
        if self.curriculum < 0:
            raise UserError("`curriculum` must be 0 or more steps")
        if self.key_length is not None:
            parse_key_length(self.key_length)
        if self.seq_len < 1:
            raise UserError("`seq_len` must be at least 1")
        if self.val_examples < 1:
            raise UserError("`val_examples` must be at least 1")

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
    # the config fields the person chose (for the resume check); none for a saved run
    given: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def architecture(self) -> str:
        return self.model.architecture

    def __post_init__(self) -> None:
        keyed = model_class(self.architecture, TASK).needs_keys
        if keyed != (self.data.key_mode == "given"):
            raise UserError(
                "`key_mode` given trains a model that reads the key as a second input "
                "(keyed, rotor), and those need `key_mode` given"
            )
        if self.architecture == "twopass" and self.data.key_mode != "unknown":
            raise UserError(
                "the twopass model infers each message's key: it needs `key_mode` unknown"
            )
        symbol = getattr(self.model, "pooling", None) == "symbol"
        if symbol and self.data.cipher != "substitution":
            raise UserError(
                "`key_pooling` symbol reads a key that is a table of ciphertext symbols: "
                f"substitution's, not {self.data.cipher}'s"
            )
        if self.architecture != "tagger" and self.data.pairs is not None:
            raise UserError("a pairs file (`pairs`) trains the tagger only")


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


def build_run(options: Options | Mapping[str, Any]) -> DecipherRun:
    """The run `options` ask for (an `Options`, or a mapping of option names to values that
    is checked first), or a UserError naming the options that do not combine."""
    o = options if isinstance(options, Options) else DECIPHER.check(options)
    arch = architecture_of(o)

    def value(name: str) -> Any:
        return o.get(name, arch)

    train = TrainConfig(
        **{f: value(name) for name, f in TRAIN_FIELDS.items()},
    )
    data = DecipherDataConfig(**{f: value(f) for f in DATA_FIELDS})
    given = o.fields(arch) | ({"architecture"} if o.chosen & set(ARCH_CHOOSERS) else set())
    return DecipherRun(data=data, model=model_config(arch, value), train=train, given=given)


# TrainConfig's fields, by the option that sets each.
TRAIN_FIELDS = {o.name: o.field_for(None) for o in DECIPHER if o.section == "train"}
DATA_FIELDS = tuple(f.name for f in fields(DecipherDataConfig))


def model_config(arch: str, value: Callable[[str], Any]) -> DecipherConfig:
    """The model `arch` names, sized by the options; its vocabulary (and key) sizes come
    from the data."""
    if arch == "rotor":
        return RotorModelConfig(start="key", gates="odometer")
    if arch == "keyed":
        return KeyedModelConfig(
            embedding=value("embedding"),
            hidden=value("hidden"),
            feed_location=value("feed_location") is not False,
        )
    if arch == "feedback":
        return FeedbackModelConfig(
            window=value("feedback"), embedding=value("embedding"), hidden=value("hidden")
        )
    if arch == "twopass":
        return TwoPassModelConfig(
            embedding=value("embedding"),
            reader_hidden=value("hidden"),
            reader_layers=value("layers"),
            feed_location=value("feed_location"),
            pooling=value("key_pooling"),
        )
    return TaggerConfig(
        **{name: value(name) for name in ("model", "embedding", "hidden", "layers")},
        **{name: value(name) for name in ("bidirectional", "dropout", "impl")},
    )


def options_of_config(config: dict[str, Any]) -> dict[str, Any]:
    """The options a saved run was made with, as `build_run` takes them (for `--from RUN`):
    its architecture, and each option it takes whose value is not that one's default."""
    run = run_from_config(config)
    arch = run.architecture
    # the data as recorded: an alphabet left to the family's default stays so
    sections = {"data": config["data"], "model": asdict(run.model), "train": asdict(run.train)}
    found: dict[str, Any] = {"arch": arch}
    if run.data.key_mode != ARCHITECTURES[arch].key_modes[0]:
        found["key_mode"] = run.data.key_mode
    for option in DECIPHER:
        field_name = option.field_for(arch)
        if option.name in ("arch", "two_pass", "key_mode") or field_name is None:
            continue
        if option.archs is not None and arch not in option.archs:
            continue
        saved = sections[option.section].get(field_name)
        if saved is not None and saved != option.default_for(arch):
            found[option.name] = saved
    return found
