"""The language-model task: train on a text file, evaluate, sample.

Plain functions over typed configs (`build_run`, `train`, `load`, `evaluate`, `sample`),
so that any front end is thin and a notebook can call the same things.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

import rnnlab
from rnnlab import checkpoint as ckpt
from rnnlab.data.batch import IGNORE_INDEX, Batch
from rnnlab.data.corpus import Corpus, encode_text_file, load_corpus
from rnnlab.data.textstream import ChunkBatches, StreamBatches, to_batch
from rnnlab.device import resolve_device
from rnnlab.errors import UserError
from rnnlab.models.charlm import CharLM, CharLMConfig
from rnnlab.options import LM, Options
from rnnlab.options.lm_presets import PRESETS
from rnnlab.tasks.runs import load_run, train_run
from rnnlab.train import Callbacks, TrainConfig
from rnnlab.train.distributed import SINGLE, Ranks
from rnnlab.vocab import Vocab, describe_char

__all__ = [
    "LAYOUTS",
    "PRESETS",
    "SHIPPED_SOURCE",
    "TASK",
    "LMDataConfig",
    "LMRun",
    "LMTask",
    "LoadedLM",
    "build_run",
    "check_sampling_args",
    "evaluate",
    "evaluate_ids",
    "options_of_config",
    "preset_of",
    "run_of_settings",
    "load",
    "pick_next",
    "prepare",
    "run_config",
    "run_from_config",
    "sample",
    "train",
    "training_text",
]

TASK = "lm"
LAYOUTS = ("stream", "chunks")


@dataclass
class LMDataConfig:
    data: str | None = None  # None: the shipped Tiny Shakespeare
    encoding: str = "utf-8"
    val_frac: float = 0.1
    val_data: str | None = None
    seq_len: int = 100
    layout: str = "stream"  # stream: TBPTT, state carried | chunks: seed 003, state reset
    # stream only: each pass after the first reads the text from a fresh random offset
    # (textstream.StreamBatches); off for runs saved before it existed
    shuffle_epochs: bool = False
    loss_scale: float = 1.0  # seed 003 sums the per-step mean losses: seq_len
    eval_columns: int = 16  # parallel streams the validation text is split into
    # Validation during training reads at most this many characters, so a multi-GB corpus
    # (100s of MB of validation text) does not stall training; `lm eval` reads it all.
    eval_max_chars: int | None = 2_000_000

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise UserError(f"unknown layout {self.layout!r}; use {', '.join(LAYOUTS)}")
        if self.seq_len < 1 or self.eval_columns < 1:
            raise UserError("`seq_len` and eval columns must be at least 1")


@dataclass
class LMRun:
    data: LMDataConfig = field(default_factory=LMDataConfig)
    model: CharLMConfig = field(default_factory=CharLMConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    # the config fields the person chose (for the resume check); none for a saved run
    given: frozenset[str] = field(default=frozenset(), compare=False)


def evaluate_ids(
    model: torch.nn.Module,
    ids: np.ndarray,
    device: torch.device,
    columns: int = 16,
    chunk: int = 512,
    ranks: Ranks = SINGLE,
) -> dict[str, float]:
    """Mean cross-entropy of each next character given all before it in its column.

    The text is cut into `columns` equal streams (the first character of each has no
    context; with 16 columns over 100k characters that costs well under 0.01 nats) and
    each is read left to right with the state carried, `chunk` characters at a time.
    In a data-parallel run each rank reads its share of the columns and the sums are
    added up: the same number as one process, in a fraction of the time.
    """
    columns = max(1, min(columns, len(ids) // 2))
    row_len = len(ids) // columns
    if row_len < 2:
        raise UserError(f"text of {len(ids)} characters is too short to evaluate")
    rows = np.asarray(ids[: row_len * columns]).reshape(columns, row_len)[ranks.rows(columns)]
    total, count, state = 0.0, 0, None
    model.eval()
    with torch.no_grad():
        for start in range(0, row_len - 1 if len(rows) else 0, chunk):
            stop = min(start + chunk, row_len - 1)
            batch = to_batch(rows[:, start:stop], rows[:, start + 1 : stop + 1], False)
            # forward, not decode: any (ids, state) -> (logits, state) module is scored the
            # same way (benchmarks/lm_cpu's plain loop included)
            logits, state = model(batch.inputs.to(device), state)
            targets = batch.targets.to(device)
            total += float(
                F.cross_entropy(logits.flatten(0, 1).float(), targets.flatten(), reduction="sum")
            )
            count += int((targets != IGNORE_INDEX).sum())
    total, summed = ranks.sum([total, float(count)])
    count = int(summed)
    oov = int(columns * (row_len - 1) - count)
    loss = total / max(count, 1)
    return {"loss": loss, "bpc": loss / math.log(2), "chars": count, "oov": oov}


class LMTask:
    """Hands the Trainer a corpus's batches (contiguous streams for truncated BPTT, or
    seed 003's chunks) and scores the model on the validation text."""

    def __init__(self, corpus: Corpus, data: LMDataConfig, batch_size: int, seed: int = 0) -> None:
        ids = corpus.train.ids
        self.batches: StreamBatches | ChunkBatches
        if data.layout == "stream":
            shuffle_seed = seed if data.shuffle_epochs else None
            self.batches = StreamBatches(ids, batch_size, data.seq_len, shuffle_seed)
        else:
            self.batches = ChunkBatches(ids, batch_size, data.seq_len)
        self.corpus = corpus
        self.data = data
        self.loss_scale = data.loss_scale

    def train_batch(self, step: int) -> Batch:
        return self.batches(step)

    def evaluate(self, model: CharLM, ranks: Ranks = SINGLE) -> dict[str, float]:
        device = next(model.parameters()).device
        ids = self.corpus.val.ids[: self.data.eval_max_chars]
        return evaluate_ids(model, ids, device, self.data.eval_columns, ranks=ranks)


def run_config(run: LMRun, corpus: Corpus) -> dict[str, Any]:
    return {
        "task": TASK,
        "rnnlab_version": rnnlab.__version__,
        "data": asdict(run.data) | {"source": recorded_source(run.data, corpus)},
        "model": run.model.to_dict(),
        "train": run.train.to_dict(),
        "vocab": corpus.vocab.to_dict(),
    }


# How config.json names the corpus shipped inside the package: its path differs between
# installs and machines, so a run records the name and `training_text` resolves it.
SHIPPED_SOURCE = "shipped:tinyshakespeare"


def recorded_source(data: LMDataConfig, corpus: Corpus) -> str:
    if data.data is None:
        return SHIPPED_SOURCE
    return str(Path(corpus.source).resolve())  # absolute: `lm eval` may run elsewhere


def training_text(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """Where the text (and the validation file) a run trained on is now: None for the
    shipped corpus, the recorded path of a user's file while it is still there."""
    if data.get("data") is None:  # the shipped corpus, whatever path an old run recorded
        return None, None
    found = []
    for path in (data.get("source") or data["data"], data.get("val_data")):
        if path is not None and not Path(path).is_file():
            raise UserError(
                f"{path}: the text this run was trained on is not there any more; "
                f"pass `data` FILE to evaluate on a file"
            )
        found.append(path)
    return found[0], found[1]


def run_from_config(config: dict[str, Any]) -> LMRun:
    try:
        data = {k: v for k, v in config["data"].items() if k != "source"}
        return LMRun(
            LMDataConfig(**data), CharLMConfig(**config["model"]), TrainConfig(**config["train"])
        )
    except (KeyError, TypeError) as e:
        raise UserError(f"config.json does not describe a language-model run ({e})") from None


def prepare(run: LMRun) -> tuple[LMTask, dict[str, Any]]:
    """The corpus, and the vocabulary size filled in from it."""
    corpus = load_corpus(run.data.data, run.data.encoding, run.data.val_frac, run.data.val_data)
    if len(corpus.val.ids) < 2:
        raise UserError("validation text is too short (fewer than 2 characters)")
    run.model.vocab_size = len(corpus.vocab)
    task = LMTask(corpus, run.data, run.train.batch_size, run.train.seed)
    return task, run_config(run, corpus)


class LMKind:
    """The language-model task, as the path every run takes sees it (tasks/runs.py)."""

    name = TASK

    def run_from_config(self, config: dict[str, Any]) -> LMRun:
        return run_from_config(config)

    def prepare(self, run: LMRun) -> tuple[LMTask, dict[str, Any]]:
        return prepare(run)


KIND = LMKind()


def train(
    run: LMRun,
    out: str | Path,
    resume: bool = False,
    callbacks: Callbacks | None = None,
    steps: int | None = None,
) -> tuple[CharLM, dict[str, Any]]:
    """Train (or resume) a language model into `out`; returns the model and last eval.
    On resume the steps, if given, extend the saved run; any other option given that is
    not the saved run's is an error."""
    return train_run(KIND, run, out, resume=resume, callbacks=callbacks, steps=steps)


# -- using a trained model ------------------------------------------------------------


@dataclass
class LoadedLM:
    model: CharLM
    config: dict[str, Any]
    vocab: Vocab
    device: torch.device
    weights: str


def load(directory: str | Path, device: str = "auto", last: bool = False) -> LoadedLM:
    """Load a language model: its best weights if the run kept them, else the last (their
    moving average, when the run kept one: what its evaluations scored)."""
    name = ckpt.WEIGHTS
    if not last and (Path(directory) / ckpt.BEST_WEIGHTS).exists():
        name = ckpt.BEST_WEIGHTS
    elif (Path(directory) / ckpt.AVERAGE_WEIGHTS).exists():
        name = ckpt.AVERAGE_WEIGHTS
    model, config, dev = load_run(KIND, directory, device=device, weights=name)
    return LoadedLM(model, config, Vocab.from_dict(config["vocab"]), dev, name)


def evaluate(
    loaded: LoadedLM, data: str | None = None, encoding: str = "utf-8", columns: int | None = None
) -> dict[str, Any]:
    """Loss (nats/char) and bits/char on the run's validation text, or on a whole file."""
    run = run_from_config(loaded.config)
    columns = columns or run.data.eval_columns
    if data is None:
        text, val_text = training_text(loaded.config["data"])
        args = (text, run.data.encoding, run.data.val_frac, val_text)
        # The encoding made for training is reused when its vocabulary is the model's (the
        # usual case); only a changed or moved file is encoded again with the model's.
        corpus = load_corpus(*args)
        if corpus.vocab != loaded.vocab:
            corpus = load_corpus(*args, vocab=loaded.vocab)
        split = corpus.val
        source = "validation split"
    else:
        split = encode_text_file(data, loaded.vocab, encoding)
        source = data
    result = evaluate_ids(loaded.model, split.ids, loaded.device, columns)
    return result | {"data": source, "weights": loaded.weights}


def pick_next(
    logits: torch.Tensor,
    temperature: float,
    top_k: int,
    top_p: float,
    generator: torch.Generator,
) -> int:
    """One id from a (vocab,) row of logits: greedy at temperature 0, else sampled from
    the temperature-scaled distribution cut to the top k and the top-p nucleus."""
    if temperature == 0:
        return int(logits.argmax())
    logits = logits.float().cpu() / temperature
    if top_k:
        kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
        logits = logits.masked_fill(logits < kth, -math.inf)
    probs = torch.softmax(logits, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(descending=True)
        # keep each token whose preceding mass is below p: the smallest set reaching p
        keep = sorted_probs.cumsum(0) - sorted_probs < top_p
        probs = torch.zeros_like(probs).scatter(0, order[keep], sorted_probs[keep])
    return int(torch.multinomial(probs, 1, generator=generator))


def check_sampling_args(temperature: float, top_k: int, top_p: float, length: int) -> None:
    if temperature < 0:
        raise UserError(f"`temperature` must be >= 0 (0 means greedy), got {temperature}")
    if not 0 < top_p <= 1:
        raise UserError(f"`top_p` must be in (0, 1], got {top_p}")
    if top_k < 0:
        raise UserError(f"`top_k` must be >= 0 (0 means no limit), got {top_k}")
    if length < 0:
        raise UserError(f"`length` must be >= 0, got {length}")


def sample(
    loaded: LoadedLM,
    prime: str = "\n",
    length: int = 500,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed: int = 0,
) -> Iterator[str]:
    """Yield `length` characters after `prime`, one at a time, carrying the state: each
    character costs one step of the network however long the text gets."""
    check_sampling_args(temperature, top_k, top_p, length)
    vocab = loaded.vocab
    if not prime:
        prime = "\n" if "\n" in vocab else vocab.chars[0]
    unknown = vocab.unknown_chars(prime)
    if unknown:
        raise UserError(
            f"prime character {describe_char(unknown[0])} is not in the model's vocabulary"
        )
    generator = torch.Generator().manual_seed(seed)
    ids = torch.from_numpy(vocab.encode(prime)).unsqueeze(0).to(loaded.device)
    with torch.no_grad():
        primed = loaded.model.decode(ids)
        logits, state = primed.logits[:, -1], primed.state
        step_input = torch.empty(1, dtype=torch.long, device=loaded.device)
        for _ in range(length):
            next_id = pick_next(logits[0], temperature, top_k, top_p, generator)
            yield vocab.chars[next_id]
            step_input.fill_(next_id)
            logits, state = loaded.model.step(step_input, state)


# -- from options to a run ------------------------------------------------------------


def build_run(options: Options | Mapping[str, Any]) -> LMRun:
    """The run `options` ask for (an `Options`, or a mapping of option names to values that
    is checked first): the preset's settings (`preset`, or the device's), with the options
    given in place of them."""
    o = options if isinstance(options, Options) else LM.check(options)
    preset = preset_of(o)
    values = dict(PRESETS[preset])
    for option in LM:
        name = option.field_for(preset)
        if name is None:
            continue
        if option.name in o:
            values[name] = o.given[option.name]
        elif name not in values and option.default is not None:
            values[name] = option.default
    if values.get("tie_weights") and "hidden" in o and "embedding" not in o:
        values["embedding"] = values["hidden"]  # keep a tied model tied when resized
    return run_of_settings(values, given=o.fields(preset))


def preset_of(options: Options) -> str:
    """The preset whose settings the options start from: `preset`, or the device's."""
    return options.get("preset") or resolve_device(options.get("device")).type


def run_of_settings(values: dict[str, Any], given: frozenset[str] = frozenset()) -> LMRun:
    """An LMRun from settings by config field name (a preset's, or a saved run's)."""
    model_keys = {f.name for f in fields(CharLMConfig)} - {"vocab_size"}
    data_keys = {f.name for f in fields(LMDataConfig)}
    train_keys = {f.name for f in fields(TrainConfig)}
    unknown = set(values) - model_keys - data_keys - train_keys
    if unknown:
        raise ValueError(f"unknown settings: {sorted(unknown)}")
    values = {"keep_best": True} | values
    model = CharLMConfig(**{k: v for k, v in values.items() if k in model_keys})
    data = LMDataConfig(**{k: v for k, v in values.items() if k in data_keys})
    train = TrainConfig(**{k: v for k, v in values.items() if k in train_keys})
    return LMRun(data, model, train, given=given)


def options_of_config(config: dict[str, Any]) -> dict[str, Any]:
    """The options a saved run was made with, as `build_run` takes them (for `--from RUN`):
    the preset whose settings beyond the options it shares (seed 003's chunks and scalar
    input, or the others' streams), and the value of every option."""
    run = run_from_config(config)
    sections = {"data": asdict(run.data), "model": asdict(run.model), "train": asdict(run.train)}
    preset = "seed" if run.data.layout == "chunks" else "cpu"
    found: dict[str, Any] = {"preset": preset}
    for option in LM:
        name = option.field_for(preset)
        if name is not None and option.section is not None:
            found[option.name] = sections[option.section].get(name)
    if found.get("max_time") is not None:
        del found["steps"]  # one or the other; the minutes are what the run was asked for
    return found
