"""KeyedDecipherer: a tagger that is handed each message's key (`--key-mode given`).

The key is read once, as its own input, never repeated and aligned to the message by hand
(that alignment is the cipher's structure, which the network is meant to learn):

    key symbols k_1 … k_n  --embed + slot embedding-->  memory m_1 … m_n
                           --masked mean, length------>  initial state (h_0, c_0)
    ciphertext c_t  --embed-->  LSTM  --h_t--> query q_t --attention over m_j--> read r_t
    logits_t = MLP([h_t, r_t, embed(c_t)])

For Vigenère the LSTM has to count t modulo the key length (which the initial state tells
it) and point its query at slot t mod n; the MLP then learns the table P = C - K. Nothing in
the model knows that the key cycles: a cipher whose key is used differently (a substitution
table, an affine pair) trains through the same code.

Long texts stream in chunks: the state is the LSTM's (h, c) (and, with location feeding,
the last attention weights); the memory is recomputed from the key for each chunk (it is a
few symbols).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rnnlab.data.batch import Batch
from rnnlab.errors import UserError
from rnnlab.models.base import (
    TIME_CHUNK,
    DecipherConfig,
    DecipherModel,
    Decoded,
    check_at_least_one,
    chunked,
    require_keys,
    require_sizes,
)
from rnnlab.models.registry import register

SIZES = ("in_vocab_size", "out_vocab_size", "key_vocab_size", "max_key_len")


@dataclass
class KeyedModelConfig(DecipherConfig):
    architecture = "keyed"
    in_vocab_size: int = 0  # 0: filled in from the data
    out_vocab_size: int = 0
    key_vocab_size: int = 0
    max_key_len: int = 0  # slots in the key memory: the longest key the model can be given
    embedding: int = 32
    hidden: int = 256
    attention: int = 64  # query/key width of the attention over the key
    # Feed the previous step's attention weights back into the LSTM (location-aware
    # attention, as in Chorowski et al. 2015): the next key slot becomes a function of the
    # last one instead of a count the state must keep exact for thousands of steps.
    feed_location: bool = False
    # Read each slot's position along with its content. A key that is a table (the
    # ciphertext symbol for each plaintext symbol) is answered by *where* the ciphertext
    # symbol sits, which the content alone does not say.
    read_slots: bool = False

    def __post_init__(self) -> None:
        check_at_least_one(self, (*SIZES, "embedding", "hidden", "attention"), SIZES)

    def sized_for(self, in_vocab: int, out_vocab: int, key_space=None) -> None:
        super().sized_for(in_vocab, out_vocab)
        self.key_vocab_size = len(key_space.alphabet)
        self.max_key_len = key_space.max_symbols


def used_slots(keys: torch.Tensor, key_lengths: torch.Tensor) -> torch.Tensor:
    """keys (batch, slots) right-padded, key_lengths (batch,) -> which slots hold a key
    symbol (batch, slots)."""
    slots = torch.arange(keys.shape[1], device=keys.device)
    return slots[None, :] < key_lengths[:, None]


@register
class KeyedDecipherer(DecipherModel):
    architecture = "keyed"
    config_class = KeyedModelConfig
    needs_keys = True

    def __init__(self, config: KeyedModelConfig) -> None:
        super().__init__()
        require_sizes(config, SIZES)
        self.config = config
        c = config
        self.embed = nn.Embedding(c.in_vocab_size, c.embedding)
        self.key_embed = nn.Embedding(c.key_vocab_size, c.embedding)
        self.slot_embed = nn.Embedding(c.max_key_len, c.embedding)
        self.length_embed = nn.Embedding(c.max_key_len + 1, c.embedding)
        if c.read_slots:
            self.slot_value = nn.Embedding(c.max_key_len, c.embedding)
        self.init_state = nn.Linear(2 * c.embedding, 2 * c.hidden)
        if c.feed_location:
            self.cell = nn.LSTMCell(c.embedding + c.max_key_len, c.hidden)
        else:
            self.rnn = nn.LSTM(c.embedding, c.hidden, batch_first=True)
        self.query = nn.Linear(c.hidden, c.attention)
        self.memory_key = nn.Linear(c.embedding, c.attention)
        self.head = nn.Sequential(
            nn.Linear(c.hidden + 2 * c.embedding, c.hidden),
            nn.ReLU(),
            nn.Linear(c.hidden, c.out_vocab_size),
        )

    def encode_key(
        self, keys: torch.Tensor, key_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """keys (batch, slots) -> content (batch, slots, E), addresses, and a valid mask."""
        if keys.shape[1] > self.config.max_key_len:
            raise UserError(
                f"key has {keys.shape[1]} symbols; this model reads at most "
                f"{self.config.max_key_len}"
            )
        slots = torch.arange(keys.shape[1], device=keys.device)
        valid = used_slots(keys, key_lengths)
        content = self.key_embed(keys)
        addresses = self.memory_key(content + self.slot_embed(slots)[None])
        if self.config.read_slots:
            content = content + self.slot_value(slots)[None]
        return content, addresses, valid

    def initial_state(
        self, content: torch.Tensor, valid: torch.Tensor, key_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        mask = valid.unsqueeze(-1).to(content.dtype)
        mean = (content * mask).sum(1) / mask.sum(1).clamp(min=1)
        summary = torch.cat([mean, self.length_embed(key_lengths)], dim=-1)
        h, c = torch.tanh(self.init_state(summary)).chunk(2, dim=-1)
        return h.unsqueeze(0).contiguous(), c.unsqueeze(0).contiguous()

    def forward(
        self,
        inputs: torch.Tensor,
        keys: torch.Tensor,
        key_lengths: torch.Tensor,
        state: tuple[torch.Tensor, ...] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """inputs (batch, time), keys (batch, slots), key_lengths (batch,) -> logits
        (batch, time, out_vocab) and the state to carry into the next chunk."""
        content, addresses, valid = self.encode_key(keys, key_lengths)
        if state is None:
            h, c = self.initial_state(content, valid, key_lengths)
            state = (h, c)
            if self.config.feed_location:
                state = (h[0], c[0], h.new_zeros(len(keys), self.config.max_key_len))
        x = self.embed(inputs)
        if self.config.feed_location:
            out, read, state = self._run_fed(x, content, addresses, valid, state)
        else:
            out, state = self.rnn(x, state)
            weights = self._attend(self.query(out), addresses, valid)
            read = torch.einsum("bts,bse->bte", weights, content)
        return self.head(torch.cat([out, read, x], dim=-1)), state

    def teacher_forced(self, batch: Batch) -> torch.Tensor:
        return self(batch.inputs, *require_keys(batch))[0]

    def decode(self, inputs, keys=None, key_lengths=None, lengths=None, chunk=TIME_CHUNK):
        """Streams `inputs` in `chunk` pieces under the given keys, carrying the state
        (padding after a row's end never changes its real positions: left to right)."""
        if keys is None or key_lengths is None:
            raise UserError("this model needs the key: pass `key`")
        logits, state = chunked(
            inputs, chunk, lambda piece, state: self(piece, keys, key_lengths, state)
        )
        return Decoded(logits.argmax(-1), logits, state)

    def _attend(
        self, queries: torch.Tensor, addresses: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        """queries (B, T, A) against addresses (B, S, A) -> weights (B, T, S) over the
        key's real slots."""
        scores = torch.einsum("bta,bsa->bts", queries, addresses)
        return scores.masked_fill(~valid[:, None, :], float("-inf")).softmax(-1)

    def _run_fed(self, x, content, addresses, valid, state):
        """The step-by-step loop of location feeding: input_t = [x_t, weights_{t-1}]."""
        h, c, weights = state
        slots = self.config.max_key_len
        pad = slots - content.shape[1]  # a shorter key tensor than the model's slots
        outs, reads = [], []
        for t in range(x.shape[1]):
            h, c = self.cell(torch.cat([x[:, t], weights], dim=-1), (h, c))
            w = self._attend(self.query(h)[:, None], addresses, valid)[:, 0]
            reads.append(torch.einsum("bs,bse->be", w, content))
            weights = nn.functional.pad(w, (0, pad)) if pad else w
            outs.append(h)
        return torch.stack(outs, 1), torch.stack(reads, 1), (h, c, weights)
