"""CharLM: a character-level language model, next character from the ones before.

    ids -> Embedding -> dropout -> RNN stack (LSTM / GRU / Elman) -> dropout -> Linear

With `tie_weights` the output layer shares the embedding matrix (Press & Wolf, 2017):
fewer parameters and, for characters, a small gain at equal size. `input="scalar"` is
seed 003's input: the character's index as a single float feature, no embedding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from rnnlab import nn as rnn
from rnnlab.choices import LM_MODELS
from rnnlab.data.batch import Batch
from rnnlab.errors import UserError
from rnnlab.models.base import (
    Decoded,
    LossOutput,
    ModelConfig,
    TaskModel,
    check_at_least_one,
    require_sizes,
)
from rnnlab.models.registry import register
from rnnlab.nn import ElmanRNN
from rnnlab.nn.dropout import Dropout

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]
MODELS = LM_MODELS
# Cells that only exist as rnnlab's per-step loop: `impl` does not apply to them.
LOOP_CELLS = {"mogrifier": rnn.MogrifierLSTM, "lnlstm": rnn.LayerNormLSTM}


@dataclass
class CharLMConfig(ModelConfig):
    architecture = "charlm"
    vocab_size: int = 0  # 0: filled in from the data
    model: str = "lstm"  # lstm | gru | elman (from scratch, as seed 003) | mogrifier | lnlstm
    embedding: int = 256  # ignored for input="scalar"
    hidden: int = 256
    layers: int = 2
    dropout: float = 0.0
    # AWD-LSTM's regularisers (Merity et al. 2018), for a model that sees its text many
    # times: DropConnect on the hidden-to-hidden matrices (one mask per batch, shared by
    # every time step), and one dropout mask per sequence for the input and output
    # dropout ("locked" / variational) instead of a new one per character.
    weight_drop: float = 0.0
    variational: bool = False
    tie_weights: bool = False  # needs embedding == hidden
    # The embedding's initial values: uniform in [-r, r] (pytorch/examples'
    # word_language_model and AWD-LSTM use 0.1), or torch's N(0, 1) for 0. Tied, the
    # same matrix makes the first logits; N(0, 1) makes them ~16 wide for 256 units.
    embedding_init: float = 0.0
    input: str = "embedding"  # embedding | scalar (seed 003's float index)
    # Who computes the recurrent layers (rnnlab.nn): torch | scratch | compiled. For elman
    # the weights are always seed 003's ElmanRNN (i2h/h2h); impl picks the code that runs
    # them: scratch is the seed's own loop, torch hands them to torch.nn.RNN.
    impl: str = "torch"

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise UserError(f"unknown model {self.model!r}; choose from {', '.join(MODELS)}")
        if self.impl not in rnn.IMPLS:
            raise UserError(f"unknown impl {self.impl!r}; choose from {', '.join(rnn.IMPLS)}")
        if self.input not in ("embedding", "scalar"):
            raise UserError(f"unknown input {self.input!r}; use embedding or scalar")
        check_at_least_one(self, ("vocab_size", "embedding", "hidden", "layers"), ("vocab_size",))
        if not 0.0 <= self.dropout < 1.0:
            raise UserError(f"`dropout` must be in [0, 1), got {self.dropout}")
        if not (math.isfinite(self.embedding_init) and self.embedding_init >= 0):
            raise UserError(
                f"`embedding_init` must be a finite number at least 0, got {self.embedding_init}"
            )
        if not 0.0 <= self.weight_drop < 1.0:
            raise UserError(f"`weight_drop` must be in [0, 1), got {self.weight_drop}")
        if self.weight_drop and self.model == "elman":
            raise UserError("`weight_drop` needs a gated cell (lstm, gru, mogrifier, lnlstm)")
        if self.tie_weights and (self.embedding != self.hidden or self.input != "embedding"):
            raise UserError("`tie_weights` needs an embedding input with `embedding` == `hidden`")


@register
class CharLM(TaskModel):
    architecture = "charlm"
    task = "lm"
    config_class = CharLMConfig

    def __init__(self, config: CharLMConfig) -> None:
        super().__init__()
        require_sizes(config, ("vocab_size",))
        self.config = config
        scalar = config.input == "scalar"
        self.embed = None if scalar else nn.Embedding(config.vocab_size, config.embedding)
        if self.embed is not None and config.embedding_init > 0:
            nn.init.uniform_(self.embed.weight, -config.embedding_init, config.embedding_init)
        in_size = 1 if scalar else config.embedding
        between = config.dropout if config.layers > 1 else 0.0
        if config.model == "elman":
            self.rnn = ElmanRNN(
                in_size, config.hidden, config.layers, dropout=between, impl=config.impl
            )
        elif config.model in LOOP_CELLS:
            cell = LOOP_CELLS[config.model]
            self.rnn = cell(in_size, config.hidden, config.layers, dropout=between)
        else:
            cls = rnn.LSTM if config.model == "lstm" else rnn.GRU
            self.rnn = cls(
                in_size,
                config.hidden,
                config.layers,
                dropout=between,
                batch_first=True,
                impl=config.impl,
            )
        self.drop = Dropout(config.dropout)  # torch's, with a cheaper CPU mask
        self.head = nn.Linear(config.hidden, config.vocab_size)
        if config.tie_weights:
            self.head.weight = self.embed.weight

    def forward(self, ids: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """ids (batch, time) -> logits (batch, time, vocab), the state after the last step."""
        if self.embed is None:  # seed 003 feeds the index itself as one float feature
            x = ids.unsqueeze(-1).float()
        else:
            x = self._dropout(self.embed(ids))
        out, state = self._recur(x, state)
        return self.head(self._dropout(out)), state

    def _dropout(self, x: torch.Tensor) -> torch.Tensor:
        """Dropout over (batch, time, features): a new mask per character, or with
        `variational` one per sequence, so a dropped feature stays dropped for the
        whole window (the recurrence cannot route around it one step later)."""
        p = self.config.dropout
        if not (self.config.variational and self.training and p > 0):
            return self.drop(x)
        keep = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p)
        return x * keep / (1 - p)

    def _recur(self, x: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """The recurrent stack, in training with DropConnect on its hidden-to-hidden
        weights. The masked matrices are handed to the layer in place of its own
        (functional_call), so every implementation runs them, oneDNN's fused one too,
        and the gradients reach the unmasked parameters."""
        p = self.config.weight_drop
        if not (self.training and p > 0):
            return self.rnn(x, state)
        masked = {
            name: F.dropout(weight, p, training=True)
            for name, weight in self.rnn.named_parameters()
            if name.startswith("weight_hh")
        }
        return functional_call(self.rnn, masked, (x, state))

    def loss(self, batch: Batch, state: State | None = None) -> LossOutput:
        """Next-character cross-entropy, carrying `state` in from the batch before (unless
        the stream restarts here); the state out is for the Trainer to detach and carry."""
        logits, state = self(batch.inputs, None if batch.reset_state else state)
        loss = F.cross_entropy(logits.flatten(0, 1).float(), batch.targets.flatten())
        return LossOutput(loss, {"count": float(batch.num_targets)}, state)

    def decode(self, inputs: torch.Tensor, state: State | None = None) -> Decoded:
        """Logits for the character after each position, and the state after the last;
        `state` continues from an earlier piece of the same text."""
        logits, state = self(inputs, state)
        return Decoded(logits.argmax(-1), logits, state)

    @torch.no_grad()
    def step(self, ids: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """One time step for generation: ids (batch,) -> logits (batch, vocab), new state.

        Same maths and state layout as `forward`, but a multi-layer torch.nn.LSTM/GRU
        called on one time step pays its sequence set-up every call (about 4x the cell's
        own work for 2 x 512 on a CPU), so the cells are applied directly instead.
        """
        if self.config.model not in ("lstm", "gru") or self.training:
            logits, state = self.forward(ids.unsqueeze(1), state)
            return logits[:, 0], state
        x = ids.unsqueeze(-1).float() if self.embed is None else self.embed(ids)
        layers, batch, hidden = self.config.layers, ids.shape[0], self.config.hidden
        if state is None:
            zeros = x.new_zeros(layers, batch, hidden)
            state = (zeros, zeros.clone()) if self.config.model == "lstm" else zeros
        rnn = self.rnn
        new_h, new_c = [], []
        for layer in range(layers):
            weights = [
                getattr(rnn, f"{name}_l{layer}")
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            if self.config.model == "lstm":
                h, c = torch.lstm_cell(x, (state[0][layer], state[1][layer]), *weights)
                new_c.append(c)
            else:
                h = torch.gru_cell(x, state[layer], *weights)
            new_h.append(h)
            x = h
        state = (torch.stack(new_h), torch.stack(new_c)) if new_c else torch.stack(new_h)
        return self.head(x), state
