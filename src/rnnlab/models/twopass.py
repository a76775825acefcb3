"""TwoPassDecipherer: infer the key, then decrypt under it (`--key-mode unknown --two-pass`).

A one-pass tagger for unknown keys holds its estimate of the key only implicitly, spread
over its state, and maps every letter through that fuzzy estimate: one letter in a few
hundred comes out under a slightly different key. Here the key is an explicit, discrete
intermediate:

    pass 1  ciphertext --embed--> bidirectional LSTM --pool--> key: one symbol per slot,
            and the key's length (trained on the key the training data was made with)
    pass 2  ciphertext, key --KeyedDecipherer--> plaintext
            (teacher-forced with the true key in training; the guessed key in use)

Pass 2 is the given-key model, which decrypts exactly once it has the key, so every error
left is a wrong key. The reader knows nothing of how a key is used: slot j pools the whole
message with its own learned attention, and the key's symbols are whatever `key_symbols`
makes of the family's key (a shift, a key word, a substitution table).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from rnnlab.choices import POOLINGS
from rnnlab.errors import UserError
from rnnlab.models.keyed import KeyedDecipherer, KeyedModelConfig, used_slots


@dataclass
class TwoPassModelConfig:
    in_vocab_size: int
    out_vocab_size: int
    key_vocab_size: int
    max_key_len: int
    # The shortest key the family draws (caesar, affine and substitution keys have one
    # length, so min = max): the length the reader names is never outside the range.
    min_key_len: int = 1
    embedding: int = 32
    reader_hidden: int = 128  # the key reader's bidirectional LSTM, per direction
    reader_layers: int = 2
    hidden: int = 256  # the decrypting (keyed) model
    attention: int = 64
    # How slot j of the key gathers its evidence from the message:
    #   attention  a learned query per slot over the whole message (assumes nothing);
    #   periodic   for each candidate key length n, slot j reads the positions i with
    #              i mod n == j, and the length is the n whose columns look most like
    #              plaintext: the shape of a key that repeats (Vigenère, Beaufort). What is
    #              learned is what a column of plaintext looks like and which key symbol
    #              turns this column into one.
    #   symbol     every ciphertext symbol gets a profile — how often it occurs, which
    #              symbols it follows and precedes (the bigram table), what the LSTM read
    #              around it — refined by a few rounds of passing profiles along the bigram
    #              table; slot j then picks the symbol whose profile fits plaintext symbol j
    #              best: the shape of a key that is a table (simple substitution).
    pooling: str = "attention"
    symbol_rounds: int = 3  # rounds of passing profiles along the bigram table

    @property
    def uniform_drill(self) -> bool:
        """Train pass 2 on each batch's keys over uniformly random plaintext as well.

        Measured: a keyed model handed substitution tables learns to apply them in 150
        steps on random letters, but stalls at 24% on English (256 letters), leaning on
        the language instead of the table. Periodic and single-symbol keys learn on
        English alone, so only table keys get the drill."""
        return self.pooling == "symbol"

    # None: decided when the key space is known — on for keys of several symbols (pass 2
    # must step through them, see KeyedModelConfig), off for one-symbol keys (nothing to
    # step through, and the fed loop costs 1.5x the training time).
    feed_location: bool | None = None

    def __post_init__(self) -> None:
        for name in (
            "in_vocab_size",
            "out_vocab_size",
            "key_vocab_size",
            "max_key_len",
            "embedding",
            "reader_hidden",
            "reader_layers",
            "hidden",
            "attention",
        ):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 1 <= self.min_key_len <= self.max_key_len:
            raise UserError(
                f"min_key_len must be 1 … max_key_len ({self.max_key_len}), got {self.min_key_len}"
            )
        if self.pooling not in POOLINGS:
            raise UserError(f"unknown key pooling {self.pooling!r}; use {', '.join(POOLINGS)}")

    def keyed(self) -> KeyedModelConfig:
        """The config of pass 2."""
        return KeyedModelConfig(
            self.in_vocab_size,
            self.out_vocab_size,
            self.key_vocab_size,
            self.max_key_len,
            embedding=self.embedding,
            hidden=self.hidden,
            attention=self.attention,
            feed_location=bool(self.feed_location),
            # A table key answers "which slot holds this symbol?": the slot's identity is
            # the plaintext, so pass 2 must read it along with the slot's content.
            read_slots=self.pooling == "symbol",
        )

    def to_dict(self) -> dict:
        return asdict(self)


class KeyReader(nn.Module):
    """Ciphertext -> logits for each key slot's symbol and for the key's length.

    Pass `lengths` (the true key lengths, in training) to read the slots as a key of that
    length; without it the slots are read for the most likely length. Only the periodic
    pooling's slots depend on the length."""

    def __init__(self, c: TwoPassModelConfig) -> None:
        super().__init__()
        self.pooling = c.pooling
        self.min_key_len, self.max_key_len = c.min_key_len, c.max_key_len
        self.embed = nn.Embedding(c.in_vocab_size, c.embedding)
        self.rnn = nn.LSTM(
            c.embedding, c.reader_hidden, c.reader_layers, batch_first=True, bidirectional=True
        )
        width = 2 * c.reader_hidden
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


def greedy_permutation(scores: torch.Tensor) -> torch.Tensor:
    """scores (B, n, n) -> (B, n): each row's assignment of slots to distinct symbols,
    taking the highest-scoring free (slot, symbol) pair first (n rounds, all rows at once)."""
    batch, n, _ = scores.shape
    scores = scores.clone()
    assignment = torch.zeros(batch, n, dtype=torch.long, device=scores.device)
    rows = torch.arange(batch, device=scores.device)
    for _ in range(n):
        best = scores.flatten(1).argmax(-1)
        slot, symbol = best // n, best % n
        assignment[rows, slot] = symbol
        scores[rows, slot, :] = float("-inf")
        scores[rows, :, symbol] = float("-inf")
    return assignment


def same_keys(
    keys_a: torch.Tensor, lengths_a: torch.Tensor, keys_b: torch.Tensor, lengths_b: torch.Tensor
) -> torch.Tensor:
    """Per row: the same length, and the same symbols in every slot that length uses."""
    used = used_slots(keys_b, lengths_b)
    return ((keys_a == keys_b) | ~used).all(-1) & (lengths_a == lengths_b)


class TwoPassDecipherer(nn.Module):
    def __init__(self, config: TwoPassModelConfig) -> None:
        super().__init__()
        self.config = config
        self.reader = KeyReader(config)
        self.decipherer = KeyedDecipherer(config.keyed())

    def guess_key(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The most likely key for each row: symbols (batch, slots) and lengths (batch,),
        the length among those the family draws."""
        slot_logits, length_logits = self.reader(inputs)
        lengths = self.reader.pick_lengths(length_logits)
        if self.config.pooling == "symbol" and slot_logits.shape[1] == slot_logits.shape[2]:
            # A table key is a permutation: each ciphertext symbol stands for one plaintext
            # symbol. Score each (slot, symbol) pair from both sides and assign greedily.
            both = slot_logits.log_softmax(-1) + slot_logits.log_softmax(1)
            return greedy_permutation(both), lengths
        return slot_logits.argmax(-1), lengths

    def key_loss(
        self, inputs: torch.Tensor, keys: torch.Tensor, key_lengths: torch.Tensor
    ) -> torch.Tensor:
        """Pass 1's loss against the true keys: cross-entropy per real slot (the slots read
        for the true length), plus the length."""
        slot_logits, length_logits = self.reader(inputs, key_lengths)
        valid = used_slots(keys, key_lengths)
        slot_loss = F.cross_entropy(slot_logits[valid], keys[valid])
        return slot_loss + F.cross_entropy(length_logits, key_lengths)

    def forward(
        self,
        inputs: torch.Tensor,
        keys: torch.Tensor | None = None,
        key_lengths: torch.Tensor | None = None,
        state: tuple[torch.Tensor, ...] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Logits under `keys` (teacher forcing), or under the key guessed from `inputs`."""
        if keys is None or key_lengths is None:
            keys, key_lengths = self.guess_key(inputs)
        return self.decipherer(inputs, keys, key_lengths, state)
