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

Long texts stream in chunks: the state is the LSTM's (h, c); the memory is recomputed from
the key for each chunk (it is a few symbols).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from rnnlab.errors import UserError


@dataclass
class KeyedModelConfig:
    in_vocab_size: int
    out_vocab_size: int
    key_vocab_size: int
    max_key_len: int  # slots in the key memory: the longest key the model can be given
    embedding: int = 32
    hidden: int = 256
    attention: int = 64  # query/key width of the attention over the key

    def __post_init__(self) -> None:
        for name in ("in_vocab_size", "out_vocab_size", "key_vocab_size", "max_key_len"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("embedding", "hidden", "attention"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return asdict(self)


class KeyedDecipherer(nn.Module):
    def __init__(self, config: KeyedModelConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embed = nn.Embedding(c.in_vocab_size, c.embedding)
        self.key_embed = nn.Embedding(c.key_vocab_size, c.embedding)
        self.slot_embed = nn.Embedding(c.max_key_len, c.embedding)
        self.length_embed = nn.Embedding(c.max_key_len + 1, c.embedding)
        self.init_state = nn.Linear(2 * c.embedding, 2 * c.hidden)
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
        valid = slots[None, :] < key_lengths[:, None]
        content = self.key_embed(keys)
        addresses = self.memory_key(content + self.slot_embed(slots)[None])
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
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """inputs (batch, time), keys (batch, slots), key_lengths (batch,) -> logits
        (batch, time, out_vocab) and the LSTM state to carry into the next chunk."""
        content, addresses, valid = self.encode_key(keys, key_lengths)
        if state is None:
            state = self.initial_state(content, valid, key_lengths)
        x = self.embed(inputs)
        out, state = self.rnn(x, state)
        scores = torch.einsum("bta,bsa->bts", self.query(out), addresses)
        scores = scores.masked_fill(~valid[:, None, :], float("-inf"))
        read = torch.einsum("bts,bse->bte", scores.softmax(-1), content)
        return self.head(torch.cat([out, read, x], dim=-1)), state
