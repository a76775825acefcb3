"""FeedbackDecipherer: a tagger that also reads its own last W outputs.

Some ciphers run a recurrence over the plaintext — autokey's P_t = C_t - P_{t-n} — which a
tagger that sees only ciphertext must reconstruct from ever-older ciphertext. This model
gets the plaintext it has already produced as input, like a character language model:

    input_t = [embed(c_t), out_embed(p_{t-1}), …, out_embed(p_{t-W})]   (p_{<0} = BOS)
    LSTM -> Linear -> logits_t

Training uses teacher forcing (the true previous plaintext, so the whole message runs
through one LSTM call); decryption is greedy, feeding back its own predictions, one step
at a time. W is a plain context window over past outputs, not the key length: the model
still has to learn which of the W positions matters, and how.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from rnnlab.data.batch import Batch
from rnnlab.models.base import (
    TIME_CHUNK,
    DecipherConfig,
    DecipherModel,
    Decoded,
    check_at_least_one,
    chunked,
    require_sizes,
)
from rnnlab.models.registry import register

VOCAB_SIZES = ("in_vocab_size", "out_vocab_size")


@dataclass
class FeedbackModelConfig(DecipherConfig):
    architecture = "feedback"
    in_vocab_size: int = 0  # 0: filled in from the data
    out_vocab_size: int = 0
    window: int = 16  # previous outputs read at each step
    embedding: int = 32
    hidden: int = 256

    def __post_init__(self) -> None:
        check_at_least_one(self, (*VOCAB_SIZES, "window", "embedding", "hidden"), VOCAB_SIZES)


# Carried across chunks: the LSTM state and the last W outputs (batch, W), newest last.
FeedbackState = tuple[tuple[torch.Tensor, torch.Tensor] | None, torch.Tensor]


@register
class FeedbackDecipherer(DecipherModel):
    architecture = "feedback"
    config_class = FeedbackModelConfig

    def __init__(self, config: FeedbackModelConfig) -> None:
        super().__init__()
        require_sizes(config, VOCAB_SIZES)
        self.config = config
        c = config
        self.bos = c.out_vocab_size  # an extra id for "before the message"
        self.embed = nn.Embedding(c.in_vocab_size, c.embedding)
        self.out_embed = nn.Embedding(c.out_vocab_size + 1, c.embedding)
        self.rnn = nn.LSTM(c.embedding * (1 + c.window), c.hidden, batch_first=True)
        self.head = nn.Linear(c.hidden, c.out_vocab_size)

    def _inputs(self, cipher_ids: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
        """cipher_ids (B, T); history (B, W + T - 1) of past outputs ending just before
        the last step -> (B, T, E * (1 + W))."""
        w = self.config.window
        windows = history.unfold(1, w, 1).flip(-1)  # (B, T, W): p_{t-1} first
        past = self.out_embed(windows).flatten(2)
        return torch.cat([self.embed(cipher_ids), past], dim=-1)

    def start_history(self, batch: int, device: torch.device) -> torch.Tensor:
        return torch.full((batch, self.config.window), self.bos, dtype=torch.long, device=device)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, object]:
        """Teacher forcing: logits for every position given the true previous plaintext."""
        history = torch.cat([self.start_history(len(inputs), inputs.device), targets], dim=1)
        logits, state = self.rnn(self._inputs(inputs, history[:, :-1]))
        return self.head(logits), state

    def teacher_forced(self, batch: Batch) -> torch.Tensor:
        # Right padding (IGNORE_INDEX) only ever follows the real plaintext; any id will do.
        return self(batch.inputs, batch.targets.clamp(min=0))[0]

    def decode(self, inputs, keys=None, key_lengths=None, lengths=None, chunk=TIME_CHUNK):
        """Greedy decryption, feeding back its own outputs, in `chunk` pieces carrying the
        state and the last outputs. No logits: they would be its own guesses' scores, so
        scoring uses the teacher-forced ones (`teacher_forced`)."""
        ids, state = chunked(inputs, chunk, self.greedy)
        return Decoded(ids, None, state)

    @torch.no_grad()
    def greedy(
        self, inputs: torch.Tensor, state: FeedbackState | None = None
    ) -> tuple[torch.Tensor, FeedbackState]:
        """Greedy decryption of (B, T) ciphertext ids; returns predicted ids and the state
        to carry into the next chunk."""
        rnn_state, history = state or (None, self.start_history(len(inputs), inputs.device))
        predictions = []
        for t in range(inputs.shape[1]):
            x = self._inputs(inputs[:, t : t + 1], history)
            out, rnn_state = self.rnn(x, rnn_state)
            pred = self.head(out[:, -1]).argmax(-1)
            predictions.append(pred)
            history = torch.cat([history[:, 1:], pred[:, None]], dim=1)
        return torch.stack(predictions, dim=1), (rnn_state, history)
