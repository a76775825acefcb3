"""Pass 1 of the two-pass model: read a message's key from its ciphertext.

Ciphertext -> embedding -> bidirectional LSTM -> one of three poolings (see
TwoPassModelConfig.pooling) -> logits for each key slot's symbol and for the key's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class KeyReaderConfig:
    """The key reader's sizes: the two-pass model's config makes one (`reader_config`)."""

    in_vocab_size: int
    key_vocab_size: int
    min_key_len: int
    max_key_len: int
    embedding: int
    hidden: int  # the bidirectional LSTM's, per direction
    layers: int
    pooling: str  # attention | periodic | symbol
    symbol_rounds: int


class KeyReader(nn.Module):
    """Ciphertext -> logits for each key slot's symbol and for the key's length.

    Pass `lengths` (the true key lengths, in training) to read the slots as a key of that
    length; without it the slots are read for the most likely length. Only the periodic
    pooling's slots depend on the length."""

    def __init__(self, c: KeyReaderConfig) -> None:
        super().__init__()
        self.pooling = c.pooling
        self.min_key_len, self.max_key_len = c.min_key_len, c.max_key_len
        self.embed = nn.Embedding(c.in_vocab_size, c.embedding)
        self.rnn = nn.LSTM(c.embedding, c.hidden, c.layers, batch_first=True, bidirectional=True)
        width = 2 * c.hidden
        if c.pooling == "periodic":
            # A column is pooled from the symbols themselves as well as the LSTM's reading:
            # the LSTM mixes in neighbours, which belong to other columns.
            width += c.embedding
            self.column_score = nn.Sequential(
                nn.Linear(width, width), nn.ReLU(), nn.Linear(width, 1)
            )
            self.slot_head = nn.Sequential(
                nn.Linear(width, width), nn.ReLU(), nn.Linear(width, c.key_vocab_size)
            )
            return
        if c.pooling == "symbol":
            self.symbols = SymbolProfiles(width + c.embedding, c.in_vocab_size, c.symbol_rounds)
            profile = self.symbols.width
            self.slot_head = nn.Linear(profile, c.max_key_len)  # symbol c -> logit per slot
            self.length_head = nn.Linear(profile, c.max_key_len + 1)
            return
        # One learned query per slot: slot j gathers what it needs from the whole message.
        self.slot_queries = nn.Parameter(torch.randn(c.max_key_len, width) / width**0.5)
        self.slot_head = nn.Sequential(
            nn.Linear(2 * width, width), nn.ReLU(), nn.Linear(width, c.key_vocab_size)
        )
        self.length_head = nn.Sequential(
            nn.Linear(width, width), nn.ReLU(), nn.Linear(width, c.max_key_len + 1)
        )

    def forward(
        self, inputs: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs (batch, time) -> slot logits (batch, slots, key_vocab), length logits
        (batch, max_key_len + 1)."""
        x = self.embed(inputs)
        out, _ = self.rnn(x)  # (B, T, W)
        if self.pooling == "periodic":
            return self._periodic(torch.cat([out, x], dim=-1), lengths)
        if self.pooling == "symbol":
            profiles = self.symbols(inputs, torch.cat([out, x], dim=-1))  # (B, V, P)
            # slot j's distribution over symbols: which ciphertext symbol stands for j
            slot_logits = self.slot_head(profiles).transpose(1, 2)  # (B, slots, V)
            return slot_logits, self.length_head(profiles.mean(1))
        mean = out.mean(dim=1)  # what every slot and the length see: the whole message
        weights = torch.einsum("btw,sw->bst", out, self.slot_queries).softmax(-1)
        pooled = torch.einsum("bst,btw->bsw", weights, out)
        slots = torch.cat([pooled, mean[:, None].expand_as(pooled)], dim=-1)
        return self.slot_head(slots), self.length_head(mean)

    def pick_lengths(self, length_logits: torch.Tensor) -> torch.Tensor:
        """The most likely key length of each row, among the lengths the family draws."""
        lo, hi = self.min_key_len, self.max_key_len
        return length_logits[:, lo : hi + 1].argmax(-1) + lo

    def _periodic(
        self, features: torch.Tensor, lengths: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        n_max = self.max_key_len
        columns = column_means(features, n_max)  # (B, n, j, F)
        n = torch.arange(1, n_max + 1, device=features.device)
        j = torch.arange(n_max, device=features.device)
        scores = self.column_score(columns).squeeze(-1)  # (B, n, j)
        real = j[None, :] < n[:, None]  # (n, j): column j exists for length n
        length_logits = (scores * real).sum(-1) / real.sum(-1)  # mean over real columns
        length_logits = torch.cat(
            [length_logits.new_full((len(features), 1), -1e9), length_logits], 1
        )
        if lengths is None:
            lengths = self.pick_lengths(length_logits)
        chosen = columns[torch.arange(len(features)), lengths - 1]  # (B, j, F)
        return self.slot_head(chosen), length_logits


class SymbolProfiles(nn.Module):
    """Per ciphertext symbol, a profile vector that does not depend on which symbol it is.

    A substitution key relabels the symbols, so what identifies plaintext letter j is not
    a ciphertext symbol's name but its behaviour: its frequency, how often it doubles, the
    symbols around it and *their* behaviour. The profile starts from the symbol's frequency,
    its doubling rate and the mean of the LSTM's features where it occurs, and each round
    adds what its bigram neighbours' profiles say (weighted by the bigram counts, in each
    direction). Nothing in this module names a symbol: relabel the symbols and each
    profile moves with its symbol (tested). The features it is handed may name them (the
    reader's embedding and LSTM do), but under random keys a name carries no information
    about the key, so all that can be learned from them is what holds for every naming.
    """

    def __init__(self, features: int, vocab: int, rounds: int, width: int = 128) -> None:
        super().__init__()
        self.vocab = vocab
        self.width = width
        self.start = nn.Sequential(nn.Linear(features + 2, width), nn.ReLU())
        self.rounds = nn.ModuleList(
            nn.Sequential(nn.Linear(3 * width, width), nn.ReLU(), nn.Linear(width, width))
            for _ in range(rounds)
        )
        self.norms = nn.ModuleList(nn.LayerNorm(width) for _ in range(rounds))

    def forward(self, inputs: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """inputs (B, T) ids, features (B, T, F) -> profiles (B, vocab, width)."""
        onehot = F.one_hot(inputs, self.vocab).to(features.dtype)  # (B, T, V)
        counts = onehot.sum(1)  # (B, V)
        frequency = counts / inputs.shape[1]
        mean_features = torch.einsum("btv,btf->bvf", onehot, features) / counts.clamp(
            min=1
        ).unsqueeze(-1)
        # bigrams[b, c, d]: how often symbol c is followed by d, per character
        bigrams = torch.einsum("btc,btd->bcd", onehot[:, :-1], onehot[:, 1:])
        bigrams = bigrams / max(inputs.shape[1] - 1, 1)
        doubles = torch.diagonal(bigrams, dim1=1, dim2=2)
        scale = self.vocab  # bigram rates are ~1/V^2; lift them to order-one weights
        h = self.start(torch.cat([mean_features, frequency[..., None], doubles[..., None]], -1))
        for update, norm in zip(self.rounds, self.norms, strict=True):
            after = torch.einsum("bcd,bdw->bcw", bigrams, h) * scale  # what follows c
            before = torch.einsum("bdc,bdw->bcw", bigrams, h) * scale  # what precedes c
            h = norm(h + update(torch.cat([h, after, before], dim=-1)))
        return h


def column_means(features: torch.Tensor, n_max: int) -> torch.Tensor:
    """features (B, T, F) -> (B, n_max, n_max, F): entry [b, n-1, j] is the mean of the
    features at positions t with t mod n == j (zero where j >= n, or the column is empty)."""
    device = features.device
    n = torch.arange(1, n_max + 1, device=device)
    t = torch.arange(features.shape[1], device=device)
    j = torch.arange(n_max, device=device)
    member = (t[None, None, :] % n[:, None, None] == j[None, :, None]).to(features.dtype)
    member = member / member.sum(-1, keepdim=True).clamp(min=1)
    return torch.einsum("njt,btf->bnjf", member, features)
