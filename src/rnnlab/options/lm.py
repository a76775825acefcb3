"""Every option of `lm train`. Their defaults are the preset's (`lm_presets.PRESETS`:
chosen per device, or by `preset`), and where a preset leaves one out, the config's own."""

from __future__ import annotations

from typing import Any

from rnnlab.choices import IMPLS, LM_MODELS, LM_PRESETS
from rnnlab.options.common import MAX_HIDDEN, run_options
from rnnlab.options.lm_presets import PRESETS
from rnnlab.options.spec import Declaration, Option


def preset_defaults(field: str) -> dict[str, Any]:
    return {name: values[field] for name, values in PRESETS.items() if field in values}


def lm_option(
    name: str, kind: str, help: str, section: str, field: str | None = None, **kw
) -> Option:
    field = field or name
    return Option(
        name,
        kind,
        help,
        by=preset_defaults(field),
        section=section,
        field=None if field == name else field,
        group=kw.pop("group", "model" if section == "model" else "training"),
        **kw,
    )


def trained(name: str, field: str | None = None, **kw) -> dict[str, Any]:
    """A shared training option's spec: the presets' defaults."""
    return {"by": preset_defaults(field or name), **kw}


LM = Declaration(
    "lm",
    (
        Option(
            "data", "str", "UTF-8 text file to learn", section="data", file=True, metavar="FILE"
        ),
        Option(
            "encoding",
            "str",
            "text encoding of the data file",
            default="utf-8",
            section="data",
            file=True,
        ),
        Option(
            "val_frac",
            "float",
            "last fraction of the text held out for validation",
            label="Validation fraction",
            default=0.1,
            section="data",
            above=0,
            below=1,
        ),
        Option(
            "val_data",
            "str",
            "validate on this file instead (then all of the data file trains)",
            section="data",
            file=True,
            metavar="FILE",
        ),
        Option(
            "preset",
            "str",
            "defaults to start from (default: the device's; seed: the recipe of the "
            "from-scratch RNN tutorial, seed 003, as a baseline)",
            choices=LM_PRESETS,
            default_text="the device's: cpu or cuda",
            group="model",
        ),
        lm_option(
            "model",
            "str",
            "recurrent cell (elman: the from-scratch Elman cell of the seed 003 tutorial; "
            "mogrifier, lnlstm: Mogrifier and layer-normalised LSTMs)",
            "model",
            label="Cell",
            choices=LM_MODELS,
        ),
        lm_option(
            "impl",
            "str",
            "who computes the RNN: torch (cuDNN/oneDNN), scratch (rnnlab's cells, a Python "
            "loop) or compiled (rnnlab's cells with a hand-written backward pass); same "
            "weights",
            "model",
            label="Implementation",
            choices=IMPLS,
            default="torch",
        ),
        lm_option(
            "hidden",
            "int",
            "hidden units per layer",
            "model",
            label="Hidden units",
            minimum=1,
            maximum=MAX_HIDDEN,
        ),
        lm_option("embedding", "int", "embedding size", "model", minimum=1, maximum=MAX_HIDDEN),
        lm_option(
            "embedding_init",
            "float",
            "start the embedding uniform in [-R, R] (0: torch's N(0, 1))",
            "model",
            default=0.0,
            minimum=0,
            maximum=100,
            metavar="R",
        ),
        lm_option("layers", "int", "stacked recurrent layers", "model", minimum=1, maximum=16),
        lm_option("dropout", "float", "dropout probability", "model", minimum=0, below=1),
        lm_option(
            "weight_drop",
            "float",
            "DropConnect probability on the hidden-to-hidden weights (not elman)",
            "model",
            default=0.0,
            minimum=0,
            below=1,
        ),
        lm_option(
            "variational",
            "bool",
            "one dropout mask per sequence (locked dropout), not one per character",
            "model",
            label="Variational dropout",
            default=False,
        ),
        lm_option(
            "tie_weights",
            "bool",
            "share the embedding and output matrices",
            "model",
        ),
        lm_option(
            "seq_len",
            "int",
            "characters per TBPTT window",
            "data",
            label="Sequence length",
            minimum=1,
            maximum=100_000,
        ),
        lm_option(
            "shuffle_epochs",
            "bool",
            "start each pass over the text at a fresh random offset (stream layout)",
            "data",
            default=False,
        ),
        *run_options(
            {
                "steps": trained("steps"),
                "batch_size": trained("batch_size", help="parallel streams per step"),
                "lr": trained("lr"),
                "optimizer": trained("optimizer"),
                "weight_decay": trained("weight_decay"),
                "ema": trained("ema", default=0.0),
                "warmup": trained("warmup", field="warmup_steps"),
                "schedule": trained("schedule"),
                "grad_clip": trained("grad_clip"),
                "eval_every": trained("eval_every"),
                "patience": {"default": 0},
                "precision": trained("precision", default="fp32"),
            },
            max_time_help="train for this many minutes instead of a number of steps",
        ),
    ),
    exclusive=(("steps", "max_time"),),
)
