"""Text corpora for the language model: a file becomes a memory-mapped array of ids.

A corpus is decoded in chunks and encoded once into a compact binary file of ids (uint8
when the vocabulary has at most 256 characters, uint16 up to 65,536, else uint32), cached
under `$RNNLAB_CACHE` (default `~/.cache/rnnlab`) and memory-mapped, so a corpus of
several GB trains without being loaded into RAM. Three streaming passes over the file:

    1. decode, check it is text, count characters        -> n, the train/val boundary
    2. count every character in train and in val        -> the vocabulary (train only)
    3. map characters to ids through a lookup table     -> train.bin, val.bin

Characters of the validation text that training never showed are marked OOV_ID in the
ids; evaluation skips them as targets and counts them, never silently drops them.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from rnnlab.errors import UserError
from rnnlab.io import atomic_write, check_file
from rnnlab.vocab import Vocab

CHUNK_BYTES = 16 * 2**20
MAX_CODEPOINT = 0x10FFFF
CACHE_VERSION = 1


def shipped_corpus() -> Path:
    """Tiny Shakespeare (1,115,394 characters), shipped inside the package."""
    return Path(str(resources.files("rnnlab") / "corpora" / "tinyshakespeare.txt"))


def cache_root() -> Path:
    return Path(os.environ.get("RNNLAB_CACHE", Path.home() / ".cache" / "rnnlab"))


def id_dtype(vocab_size: int) -> np.dtype:
    # One id value is kept free above the vocabulary for OOV_ID.
    if vocab_size < 2**8:
        return np.dtype(np.uint8)
    if vocab_size < 2**16:
        return np.dtype(np.uint16)
    return np.dtype(np.uint32)


def oov_id(dtype: np.dtype) -> int:
    return int(np.iinfo(dtype).max)


def _chunks(path: Path, encoding: str) -> Iterator[str]:
    """Decoded text of `path`, chunk by chunk; bad bytes raise UserError with their offset."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        raise UserError(f"unknown text encoding {encoding!r}") from None
    offset = 0  # bytes of the file read so far
    with path.open("rb") as f:
        while True:
            raw = f.read(CHUNK_BYTES)
            final = not raw
            pending = decoder.getstate()[0]  # bytes of a character split across chunks
            try:
                text = decoder.decode(raw, final=final)
            except UnicodeDecodeError as e:
                bad = offset - len(pending) + e.start
                raise UserError(
                    f"{path}: not valid {encoding} at byte offset {bad} (line "
                    f"{_line_of(path, bad)}); pass `encoding` if the file uses another encoding"
                ) from None
            if "\x00" in text:
                raise UserError(f"{path}: looks like a binary file (contains NUL bytes)")
            offset += len(raw)
            if text:
                yield text
            if final:
                return


def _line_of(path: Path, byte_offset: int) -> int:
    lines, done = 1, 0
    with path.open("rb") as f:
        while done < byte_offset:
            block = f.read(min(CHUNK_BYTES, byte_offset - done))
            if not block:
                break
            lines += block.count(b"\n")
            done += len(block)
    return lines


def _codepoints(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def file_cache_key(path: Path, encoding: str, extra: str) -> str:
    """A short hash naming a cache entry for this file as it is now (path, size, mtime):
    any edit to the file makes a new key, so a stale entry is never read."""
    stat = path.stat()
    ident = "|".join(
        map(str, (path.resolve(), stat.st_size, stat.st_mtime_ns, encoding, extra, CACHE_VERSION))
    )
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def count_chars(path: Path, encoding: str) -> tuple[int, bool]:
    """(characters in the file, whether any of them is not whitespace)."""
    n, visible = 0, False
    for chunk in _chunks(path, encoding):
        n += len(chunk)
        visible = visible or not chunk.isspace()
    return n, visible


def char_counts(path: Path, encoding: str, start: int, stop: int) -> np.ndarray:
    """Occurrences of every code point among characters [start, stop) of the file."""
    counts = np.zeros(MAX_CODEPOINT + 1, dtype=np.int64)
    pos = 0
    for chunk in _chunks(path, encoding):
        lo, hi = max(start - pos, 0), min(stop - pos, len(chunk))
        if lo < hi:
            counts += np.bincount(_codepoints(chunk[lo:hi]), minlength=MAX_CODEPOINT + 1)
        pos += len(chunk)
        if pos >= stop:
            break
    return counts


def encode_file(path: Path, encoding: str, vocab: Vocab, start: int, stop: int, out: Path) -> int:
    """Write ids of characters [start, stop) to `out`; returns how many were OOV."""
    dtype = id_dtype(len(vocab))
    table = np.full(MAX_CODEPOINT + 1, oov_id(dtype), dtype=dtype)
    for i, ch in enumerate(vocab.chars):
        table[ord(ch)] = i
    oov = 0

    def write(tmp: Path) -> None:
        nonlocal oov
        pos = 0
        with tmp.open("wb") as f:
            for chunk in _chunks(path, encoding):
                lo, hi = max(start - pos, 0), min(stop - pos, len(chunk))
                if lo < hi:
                    ids = table[_codepoints(chunk[lo:hi])]
                    oov += int((ids == oov_id(dtype)).sum())
                    f.write(ids.tobytes())
                pos += len(chunk)
                if pos >= stop:
                    break

    atomic_write(out, write)
    return oov


@dataclass
class Split:
    ids: np.ndarray  # memory-mapped ids; OOV_ID where a character is outside the vocabulary
    oov: int  # how many characters of this split are outside the vocabulary


@dataclass
class Corpus:
    vocab: Vocab
    train: Split
    val: Split
    source: str


def load_corpus(
    path: str | Path | None = None,
    encoding: str = "utf-8",
    val_frac: float = 0.1,
    val_path: str | Path | None = None,
    vocab: Vocab | None = None,
) -> Corpus:
    """Encode (or reuse the cached encoding of) a corpus and memory-map it.

    `vocab`: use this vocabulary (a trained model's) instead of building one from the
    training split; then every split may have OOV characters.
    """
    path = Path(path) if path is not None else shipped_corpus()
    check_file(path)
    if not 0.0 < val_frac < 1.0 and val_path is None:
        raise UserError(f"`val_frac` must be between 0 and 1, got {val_frac}")
    fixed_vocab = vocab.chars if vocab is not None else ""
    key = file_cache_key(path, encoding, f"{val_frac}|{val_path}|{fixed_vocab}")
    cache = cache_root() / "corpora" / key
    meta_path = cache / "meta.json"
    if not meta_path.exists():
        _build_cache(path, encoding, val_frac, val_path, vocab, cache)
    meta = json.loads(meta_path.read_text())
    corpus_vocab = Vocab.from_dict(meta["vocab"])
    dtype = id_dtype(len(corpus_vocab))
    return Corpus(
        vocab=corpus_vocab,
        train=Split(_map_ids(cache / "train.bin", dtype), meta["train_oov"]),
        val=Split(_map_ids(cache / "val.bin", dtype), meta["val_oov"]),
        source=str(path),
    )


def _map_ids(path: Path, dtype: np.dtype) -> np.ndarray:
    size = path.stat().st_size // dtype.itemsize
    if size == 0:  # np.memmap refuses an empty file
        return np.zeros(0, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", shape=(size,))


def _build_cache(path, encoding, val_frac, val_path, vocab, cache: Path) -> None:
    n, visible = count_chars(path, encoding)
    if not visible:
        raise UserError(f"{path}: file is empty")
    if val_path is not None:
        val_file, n_train = Path(val_path), n
        check_file(val_file)
        n_val, _ = count_chars(val_file, encoding)
        val_src, val_lo, val_hi = val_file, 0, n_val
    else:
        n_train = int(n * (1 - val_frac))
        val_src, val_lo, val_hi = path, n_train, n
    if vocab is None:
        present = np.nonzero(char_counts(path, encoding, 0, n_train))[0]
        vocab = Vocab("".join(chr(c) for c in present))
    cache.mkdir(parents=True, exist_ok=True)
    train_oov = encode_file(path, encoding, vocab, 0, n_train, cache / "train.bin")
    val_oov = encode_file(val_src, encoding, vocab, val_lo, val_hi, cache / "val.bin")
    meta = {
        "source": str(path),
        "val_source": str(val_src),
        "encoding": encoding,
        "chars": n,
        "train_chars": n_train,
        "val_chars": val_hi - val_lo,
        "train_oov": train_oov,
        "val_oov": val_oov,
        "vocab": vocab.to_dict(),
    }
    # meta.json last: its presence is what marks the cache entry complete.
    atomic_write(cache / "meta.json", lambda tmp: tmp.write_text(json.dumps(meta, indent=2)))


def encode_text_file(path: str | Path, vocab: Vocab, encoding: str = "utf-8") -> Split:
    """A whole file encoded once with a given vocabulary (for `lm eval --data FILE`)."""
    path = Path(path)
    check_file(path)
    cache = cache_root() / "corpora" / file_cache_key(path, encoding, f"whole|{vocab.chars}")
    meta_path = cache / "meta.json"
    if not meta_path.exists():
        n, visible = count_chars(path, encoding)
        if not visible:
            raise UserError(f"{path}: file is empty")
        oov = encode_file(path, encoding, vocab, 0, n, cache / "ids.bin")
        meta = json.dumps({"source": str(path), "chars": n, "oov": oov})
        atomic_write(meta_path, lambda tmp: tmp.write_text(meta))
    oov = json.loads(meta_path.read_text())["oov"]
    return Split(_map_ids(cache / "ids.bin", id_dtype(len(vocab))), oov)
