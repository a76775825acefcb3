"""The exceptions that mean the user, not the code, ended a command.

Library code raises `UserError` with a message a person can act on; the CLI turns it into a
single `error: …` line on stderr and exit code 2. `Interrupted` is Ctrl-C during training;
the CLI says what was saved and exits with 130. Anything else escaping is a bug and is
allowed to show its traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable


class UserError(Exception):
    """Bad input from the user: a file, a flag, a character, a checkpoint directory."""


class Interrupted(Exception):
    """Training stopped by Ctrl-C (or a front end's `should_stop`); `step` is the last step
    saved (0: nothing was saved).

    Defined here, not beside the Trainer that raises it, so that the CLI can catch it
    without importing torch.
    """

    def __init__(self, step: int) -> None:
        super().__init__(f"interrupted at step {step}")
        self.step = step


class LostRank(UserError):
    """A data-parallel run lost one of its processes: it died, or stopped answering for the
    collective timeout. The message says which rank saw it and what checkpoint is left; the
    CLI shows it as one line (exit code 1: nothing the user typed was wrong)."""


# An option inside a library message is written as its name in backticks (`key_mode`), so
# that each front end can show it in its own words: the CLI as the flag (--key-mode), the
# web page as the field's label (Key mode), a notebook as the name itself.
OPTION_NAME = re.compile(r"`([a-z][a-z0-9_]*)`")


def option_words(message: str, show: Callable[[str], str]) -> str:
    """`message` with each `name` replaced by show(name)."""
    return OPTION_NAME.sub(lambda m: show(m.group(1)), message)


def as_flag(name: str) -> str:
    return "--" + name.replace("_", "-")
