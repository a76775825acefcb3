"""The options a person may choose for each task's `train`, declared once (torch-free):
`DECIPHER` and `LM`, each a `Declaration` of `Option`s. See `spec.py`."""

from rnnlab.options.decipher import ARCHITECTURES, DECIPHER, architecture_of
from rnnlab.options.lm import LM
from rnnlab.options.spec import Declaration, Option, Options

DECLARATIONS = {"decipher": DECIPHER, "lm": LM}

__all__ = [
    "ARCHITECTURES",
    "DECIPHER",
    "DECLARATIONS",
    "LM",
    "Declaration",
    "Option",
    "Options",
    "architecture_of",
]
