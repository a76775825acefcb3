"""Decipherer: a sequence tagger, ciphertext symbol in -> plaintext symbol out.

Embedding -> recurrent stack (torch.nn LSTM / GRU / Elman RNN) -> Linear, as in seeds
000-002, with layers and bidirectionality as options. One output per input position: the
ciphers rnnlab targets are length-preserving, so no attention or decoder is needed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnnlab import nn as rnn
from rnnlab.errors import UserError

# rnnlab.nn's drop-ins for torch.nn.LSTM / GRU / RNN: same weights, `impl` picks the code
RNN_CLASSES: dict[str, type[nn.RNNBase]] = {"lstm": rnn.LSTM, "gru": rnn.GRU, "elman": rnn.RNN}


@dataclass
class DecipherModelConfig:
    in_vocab_size: int
    out_vocab_size: int
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
        for name in ("embedding", "hidden", "layers", "in_vocab_size", "out_vocab_size"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise UserError(f"dropout must be in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)


class Decipherer(nn.Module):
    def __init__(self, config: DecipherModelConfig) -> None:
        super().__init__()
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
