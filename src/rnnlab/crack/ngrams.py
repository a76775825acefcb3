"""Character n-gram language scores: how English-like a candidate plaintext is.

Counts of 1- to 4-grams of the letters A-Z (case folded, everything else dropped, so
n-grams run across word boundaries as they do in a ciphertext with its spaces removed),
smoothed by Witten-Bell interpolation: each order backs off to the one below in
proportion to how many different letters followed its context. The result is one dense
table of log P(d | a b c) for every quadgram, so scoring a text is one gather and a sum —
the inner loop of every attack.

Tables are built from a corpus once and cached as safetensors under
`$RNNLAB_CACHE/ngrams/` (about 1.8 MB), keyed by the corpus file's path, size and mtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file, save_file

from rnnlab.crack.letters import M, to_ids
from rnnlab.data.corpus import cache_root, file_cache_key, shipped_corpus
from rnnlab.errors import UserError
from rnnlab.io import atomic_write, read_text

ORDER = 4
CACHE_VERSION = 1
MIN_CORPUS_LETTERS = 10_000  # below this the quadgram table is mostly back-off guesses


@dataclass(frozen=True)
class NgramModel:
    quad: np.ndarray  # (26**4,) float32, log P(d | abc), index ((a*26 + b)*26 + c)*26 + d
    unigram: np.ndarray  # (26,) float64, P(letter)
    source: str

    @property
    def log_unigram(self) -> np.ndarray:
        return np.log(self.unigram)

    def quad_ids(self, ids: np.ndarray) -> np.ndarray:
        """Flat quadgram indices of a (..., n) array of letter ids, n >= 4."""
        return ((ids[..., :-3] * M + ids[..., 1:-2]) * M + ids[..., 2:-1]) * M + ids[..., 3:]

    def score(self, ids: np.ndarray) -> np.ndarray | float:
        """Total log-probability (nats) of the quadgram continuations in `ids` (..., n)."""
        if ids.shape[-1] < ORDER:
            return (self.log_unigram[ids]).sum(axis=-1)
        total = self.quad[self.quad_ids(ids)].sum(axis=-1)
        return float(total) if np.ndim(total) == 0 else total

    def per_letter(self, ids: np.ndarray) -> float:
        """Mean log-probability per scored letter: comparable across lengths."""
        scored = max(1, len(ids) - ORDER + 1) if len(ids) >= ORDER else max(1, len(ids))
        return float(self.score(ids)) / scored


def _witten_bell(counts_by_order: list[np.ndarray]) -> np.ndarray:
    """Interpolated Witten-Bell probabilities for the top order, as dense arrays.

    counts_by_order[k] has shape (26,)*(k+1): counts of (k+1)-grams. P_1 is the add-one
    unigram; P_k(w | h) = (c(h, w) + T(h) * P_{k-1}(w | h')) / (c(h) + T(h)), where T(h) is
    the number of distinct letters seen after h and h' drops the oldest letter of h.
    """
    uni = counts_by_order[0] + 1.0
    prob = uni / uni.sum()
    for k in range(1, len(counts_by_order)):
        counts = counts_by_order[k]
        context_total = counts.sum(axis=-1, keepdims=True)
        types = (counts > 0).sum(axis=-1, keepdims=True)
        lower = np.broadcast_to(prob, counts.shape)  # P_{k-1}(w | h'): h' is the trailing axes
        denom = context_total + types
        with np.errstate(invalid="ignore", divide="ignore"):
            interp = (counts + types * lower) / denom
        prob = np.where(denom > 0, interp, lower)  # unseen context: back off entirely
    return prob


def build(ids: np.ndarray, source: str) -> NgramModel:
    if len(ids) < MIN_CORPUS_LETTERS:
        raise UserError(
            f"{source}: only {len(ids)} letters; an n-gram scorer needs at least "
            f"{MIN_CORPUS_LETTERS:,} letters of the language"
        )
    counts = []
    for n in range(1, ORDER + 1):
        flat = np.zeros(len(ids) - n + 1, dtype=np.int64)
        for j in range(n):
            flat = flat * M + ids[j : len(ids) - n + 1 + j]
        counts.append(np.bincount(flat, minlength=M**n).astype(np.float64).reshape((M,) * n))
    quad = np.log(_witten_bell(counts)).astype(np.float32).reshape(-1)
    unigram = (counts[0] + 1.0) / (counts[0].sum() + M)  # never zero: a log is taken
    return NgramModel(quad, unigram, source)


def _cache_path(path: Path) -> Path:
    key = file_cache_key(path, "utf-8", f"ngrams|{ORDER}|{CACHE_VERSION}")
    return cache_root() / "ngrams" / f"{key}.safetensors"


def load_model(corpus: str | Path | None = None) -> NgramModel:
    """The scorer for `corpus` (default: the shipped English corpus), built once and cached."""
    path = Path(corpus) if corpus is not None else shipped_corpus()
    source = "Tiny Shakespeare (shipped)" if corpus is None else str(path)
    cached = _cache_path(path) if path.is_file() else None
    if cached is not None and cached.is_file():
        try:
            tensors = load_file(str(cached))
            return NgramModel(tensors["quad"], tensors["unigram"], source)
        except Exception:  # a damaged cache entry is rebuilt, never trusted
            pass
    model = build(to_ids(read_text(path)), source)
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tensors = {"quad": model.quad, "unigram": model.unigram}
        atomic_write(cached, lambda tmp: save_file(tensors, str(tmp)))
    return model
