"""Tagger: ciphertext symbol in -> plaintext symbol out, one output per position.

Embedding -> recurrent stack (torch.nn LSTM / GRU / Elman RNN) -> Linear, as in seeds
000-002, with layers and bidirectionality as options. The ciphers rnnlab targets are
length-preserving, so no attention or decoder is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab import nn as rnn
from rnnlab.data.batch import Batch
from rnnlab.errors import UserError
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

# rnnlab.nn's drop-ins for torch.nn.LSTM / GRU / RNN: same weights, `impl` picks the code
RNN_CLASSES: dict[str, type[nn.RNNBase]] = {"lstm": rnn.LSTM, "gru": rnn.GRU, "elman": rnn.RNN}
BIDI_WINDOW = 2048  # characters a bidirectional tagger reads at once (memory bound)
VOCAB_SIZES = ("in_vocab_size", "out_vocab_size")


@dataclass
class TaggerConfig(DecipherConfig):
    architecture = "tagger"
    in_vocab_size: int = 0  # 0: filled in from the data
    out_vocab_size: int = 0
    model: str = "lstm"  # lstm | gru | elman
    embedding: int = 32
    hidden: int = 128
    layers: int = 1
    bidirectional: bool = False
    dropout: float = 0.0  # between stacked layers; torch.nn ignores it for one layer
    impl: str = "torch"  # torch | scratch | compiled (rnnlab.nn); same weights for all

    def __post_init__(self) -> None:
        if self.model not in RNN_CLASSES:
            raise UserError(f"unknown model {self.model!r}; choose from {', '.join(RNN_CLASSES)}")
        if self.impl not in rnn.IMPLS:
            raise UserError(f"unknown impl {self.impl!r}; choose from {', '.join(rnn.IMPLS)}")
        check_at_least_one(self, ("embedding", "hidden", "layers", *VOCAB_SIZES), VOCAB_SIZES)
        if not 0.0 <= self.dropout < 1.0:
            raise UserError(f"dropout must be in [0, 1), got {self.dropout}")


@register
class Tagger(DecipherModel):
    architecture = "tagger"
    config_class = TaggerConfig

    def __init__(self, config: TaggerConfig) -> None:
        super().__init__()
        require_sizes(config, VOCAB_SIZES)
        self.config = config
        self.embed = nn.Embedding(config.in_vocab_size, config.embedding)
        self.rnn = RNN_CLASSES[config.model](
            config.embedding,
            config.hidden,
            num_layers=config.layers,
            bidirectional=config.bidirectional,
            dropout=config.dropout if config.layers > 1 else 0.0,
            batch_first=True,
            impl=config.impl,
        )
        directions = 2 if config.bidirectional else 1
        self.head = nn.Linear(config.hidden * directions, config.out_vocab_size)

    def forward(
        self,
        inputs: torch.Tensor,
        lengths: torch.Tensor | None = None,
        state: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, object]:
        """inputs (batch, time) ids -> logits (batch, time, out_vocab), final state.

        `lengths` marks right-padded rows; they are packed so that padding never reaches
        the backward direction of a bidirectional model. `state` carries a unidirectional
        model across chunks of one long message.
        """
        x = self.embed(inputs)
        if lengths is not None:
            packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            out, state = self.rnn(packed, state)
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=inputs.shape[1])
        else:
            out, state = self.rnn(x, state)
        return self.head(out), state

    def teacher_forced(self, batch: Batch) -> torch.Tensor:
        return self(batch.inputs, batch.lengths)[0]

    def decode(self, inputs, keys=None, key_lengths=None, lengths=None, chunk=TIME_CHUNK):
        """Right-padded rows are read whole; a unidirectional tagger streams long text in
        `chunk` pieces carrying its state, a bidirectional one (whose backward pass starts
        at the end) reads windows. A tagger takes no key."""
        if lengths is not None:
            logits = self(inputs, lengths)[0]
        elif self.config.bidirectional:
            logits = self.windows(inputs)
        else:
            logits, _ = chunked(inputs, chunk, lambda piece, state: self(piece, state=state))
        return Decoded(logits.argmax(-1), logits)

    def windows(self, inputs: torch.Tensor) -> torch.Tensor:
        """A bidirectional tagger's logits, BIDI_WINDOW characters at a time.

        Each window is decrypted on its own, so memory stays bounded however long the
        text; every key an unknown-key model infers is one key per message, which any long
        enough window shows again. The last window is moved back to end at the text's end
        (overlapping the one before) rather than left short, so no piece has too little
        text to go on.
        """
        length = inputs.shape[1]
        if length <= BIDI_WINDOW:
            return self(inputs)[0]
        pieces = []
        for start in range(0, length, BIDI_WINDOW):
            begin = min(start, length - BIDI_WINDOW)
            logits = self(inputs[:, begin : begin + BIDI_WINDOW])[0]
            pieces.append(logits[:, start - begin :])
        return torch.cat(pieces, dim=1)
