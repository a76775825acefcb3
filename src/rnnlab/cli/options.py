"""The `… train` flags, made from the task's declaration of options (rnnlab.options), and
the options a command line gives: from a saved run (`--from RUN`), a config file
(`--config FILE`) and the flags, later ones winning.

Every flag defaults to None, so that "given" means typed: the library fills in the
defaults, and the resume check asks only about what was typed.
"""

from __future__ import annotations

import argparse
from typing import Any

from rnnlab.options.spec import Declaration, Option, Options

PYTHON_TYPES = {"int": int, "float": float, "str": str}


def add_declared_options(parser: argparse.ArgumentParser, declaration: Declaration) -> None:
    groups: dict[str, Any] = {}
    for a, b in declaration.exclusive:
        groups[a] = groups[b] = parser.add_mutually_exclusive_group()
    for option in declaration:
        target = groups.get(option.name, parser)
        target.add_argument(option.flag, dest=option.name, default=None, **flag_kwargs(option))


def flag_kwargs(option: Option) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"help": flag_help(option)}
    if option.kind == "bool":
        if option.switch:
            kwargs.update(action="store_const", const=True)
        else:
            kwargs["action"] = argparse.BooleanOptionalAction
        return kwargs
    kwargs["type"] = PYTHON_TYPES[option.kind]
    if option.choices is not None:
        kwargs["choices"] = list(option.choices)
    if option.metavar is not None:
        kwargs["metavar"] = option.metavar
    return kwargs


def flag_help(option: Option) -> str:
    """The option's help, and its default where the help does not say it: one value, or
    one per context (an architecture, a preset) and the value elsewhere."""
    words = option.help
    if "default" not in words and not option.switch:
        shown = [f"{context}: {value}" for context, value in option.by.items()]
        if option.default is not None:
            shown.append(f"else {option.default}" if shown else str(option.default))
        if shown:
            words += f" (default {', '.join(shown)})"
    return words.replace("%", "%%")  # argparse formats help with %


def given_options(
    args: argparse.Namespace, declaration: Declaration, saved: dict[str, Any] | None = None
) -> Options:
    """The options the command line gives: those of a saved run (`saved`, for --from),
    then a config file's (--config), then the flags'."""
    from rnnlab.options.files import read_options_file

    from_file = read_options_file(args.config, declaration) if args.config else {}
    typed = {o.name: getattr(args, o.name, None) for o in declaration}
    return declaration.check(declaration.merge(saved or {}, from_file, typed))


def saved_options(run_dir: str, task: str, options_of_config) -> dict[str, Any]:
    """The options the run in `run_dir` was made with (`--from RUN`)."""
    from pathlib import Path

    from rnnlab import checkpoint as ckpt

    config = ckpt.read_config(run_dir)
    ckpt.require_task(config, Path(run_dir), task)
    return options_of_config(config)
