"""Read a user's text file, or say exactly why it cannot be used.

Every reader of user text goes through here so that an empty, binary or non-UTF-8 file gets
the same one-line explanation everywhere.
"""

from __future__ import annotations

from pathlib import Path

from rnnlab.errors import UserError

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
            f"byte 0x{raw[e.start]:02x}; pass --encoding if the file uses another encoding"
        ) from None
