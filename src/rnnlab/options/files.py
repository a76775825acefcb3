"""Options from a TOML file (`--config FILE`): one `name = value` line per option, the
option names of `--help` with either dashes or underscores (`seq-len = 40`, `seq_len =
40`). Each value is checked against its option; a mistake is one line naming the file, the
key and what was expected."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Any

from rnnlab.errors import UserError
from rnnlab.options.spec import KIND_WORDS, Declaration

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


def read_options_file(path: str | Path, declaration: Declaration) -> dict[str, Any]:
    """The options a TOML file gives, by option name, each checked."""
    data = parse_toml(Path(path))
    values: dict[str, Any] = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in declaration:
            near = difflib.get_close_matches(name, declaration.names(), n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            raise UserError(f"{path}: {key}: not an option of {declaration.task} train{hint}")
        option = declaration[name]
        if isinstance(value, (dict, list)):
            raise UserError(
                f"{path}: {key}: expected {KIND_WORDS[option.kind]}, got a TOML "
                f"{'table' if isinstance(value, dict) else 'array'}"
            )
        try:
            values[name] = option.check(value)
        except UserError as e:
            # "`hidden` must be a whole number, got 'big'" -> "FILE: hidden: must be …"
            problem = str(e).removeprefix(f"`{name}` ")
            raise UserError(f"{path}: {key}: {problem}") from None
    return values


def parse_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such config file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a config file") from None
    except OSError as e:
        raise UserError(f"{path}: cannot read it ({e.strerror})") from None
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UserError(f"{path}: not a UTF-8 text file (a config file is TOML)") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path}: not TOML ({e})") from None
