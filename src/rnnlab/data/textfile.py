"""Safe text reading lives in `rnnlab.io` (torch-free, beside the atomic writes); these
names stay importable from here for the code that already uses them."""

from rnnlab.io import check_file, decode_bytes, read_text

__all__ = ["check_file", "decode_bytes", "read_text"]
