"""Files in and out, without torch: atomic writes, and reading a user's text safely.

Writes go to a temporary sibling and are renamed into place, so a crash or Ctrl-C mid-write
leaves the previous good file, never half of a new one. The rename replaces whatever stands
at the path — a symbolic link included, never the file it points to — and appends refuse
to go through a link: nothing written under a run directory can land outside it.

Every reader of user text goes through `read_text` so that an empty, binary or non-UTF-8
file gets the same one-line explanation everywhere.

Nothing here imports torch: the torch-free commands (`rnnlab cipher`, classical `rnnlab
crack`) write caches and read text through this module and start in a fraction of the time.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from rnnlab.errors import UserError

# The umask can be read only by setting it, so it is read once, at import.
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` for a temporary sibling of `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes files 0600; give the usual mode
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def append_lines(path: Path, lines: Iterable[str]) -> None:
    """Append to `path`, creating it, but never through a symbolic link: O_NOFOLLOW makes
    the open fail on a link (a dangling one too), where plain "a" mode would follow it and
    write wherever it points."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
    try:
        fd = os.open(path, flags, 0o666)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise link_error(path) from None
        raise
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.writelines(lines)


def refuse_link(path: Path) -> None:
    """Fail early, before work that would end in writing to `path`, if it is a link."""
    if path.is_symlink():
        raise link_error(path)


def link_error(path: Path) -> UserError:
    return UserError(
        f"{path} is a symbolic link; rnnlab writes only real files in a run directory "
        f"(remove the link)"
    )


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=2) + "\n"))


# A NUL byte never appears in text a person means to train on; in binary files it is
# nearly certain to appear early, so checking a prefix keeps the test cheap.
_BINARY_PROBE_BYTES = 8192


def check_file(path: Path) -> None:
    """The checks every reader makes before opening a user's file."""
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path}: is a directory, expected a text file")
    if path.stat().st_size == 0:
        raise UserError(f"{path}: file is empty")


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    path = Path(path)
    check_file(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror})") from None
    if not raw.strip():
        raise UserError(f"{path}: file is empty")
    if b"\x00" in raw[:_BINARY_PROBE_BYTES] and not encoding.lower().startswith("utf-16"):
        raise UserError(f"{path}: looks like a binary file (contains NUL bytes), expected text")
    return decode_bytes(raw, path, encoding)


def decode_bytes(raw: bytes, path: str | Path, encoding: str = "utf-8") -> str:
    try:
        return raw.decode(encoding)
    except LookupError:
        raise UserError(f"unknown text encoding {encoding!r}") from None
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise UserError(
            f"{path}: not valid {encoding} at byte offset {e.start} (line {line}): "
            f"byte 0x{raw[e.start]:02x}; pass `encoding` if the file uses another encoding"
        ) from None
