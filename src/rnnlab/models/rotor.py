"""RotorDecipherer: learned position counters that index a learned table
(`--key-mode given --arch rotor`), for ciphers like the Enigma whose mapping at each
character depends on positions that move as the message goes on.

The model is handed each message's key (for the Enigma: its three start letters) and reads
it once. Nothing in it is the machine: no wiring, notch or stepping rule is given, only a
shape for what it learns.

    key symbols k_1 … k_C   ->  counters p_1 … p_C, each a distribution over P positions:
                                p_c starts at position k_c ("key" start; runs saved before
                                it learned start logits from the key instead)
    each character:  g_c = sigmoid(W_c [p_c, p_c+1] + b_c)  does counter c advance?
                     p_c <- (1 - g_c) p_c + g_c roll(p_c, 1)  (before the character,
                                                             as the machine steps)
    ciphertext x     p(y) = sum over the counters' likely joint values (a_1 … a_C) of
                            prod_c p_c(a_c) * softmax(table[a_1 … a_C, x])[y]

The gates are the network's own: it learns which positions make which counter advance (the
Enigma's notches and double step are one answer among the many this form can hold). Their
shape is an odometer's: counter c's gate reads its own position and its neighbour's, c + 1,
the one nearer the entry (the key's last slot: the Enigma's right rotor). Runs saved before
that shape let every gate read every counter; training then also learned rules that no
character needed (a left counter that stepped on some of its own positions, a right one
held back by the left's), which held for short messages and broke long ones. The gates
start with the counter nearest the entry advancing and the others still (`__init__` says
why).
The table has a row of logits for every joint value of the counters and every input symbol
(26^3 x 26 x 26 for the Enigma): with start positions drawn at random, every joint value
occurs in training, so the table can be filled in, and what carries the model past the
training length is the counters. Training mixes each counter's TOP most likely values
(TOP^C cells per character), so that the gates get gradients from which cell explains the
character best.

A length curriculum (`--curriculum`, 50 steps a length by default for this model) is what
makes this learnable: on 1-letter messages each table cell is tied to one start, and on 2,
4, … letters advancing the counters is what lets the cells already learned explain the
later letters.

In use (`hard_decode`) every counter is rounded to its most likely position and every gate
to 0 or 1 after each step: a trained model then keeps its count exactly however long the
text, instead of letting a gate of 0.999 blur the count over thousands of characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
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

START_SCALE = 4.0  # start logits: a key letter's own position starts near certain
# The table's logits are this times its parameters: under Adam (whose steps are about the
# learning rate whatever the gradient) a cell seen once then moves by a few units of logit,
# not by a few hundredths; each of the 17,576 x 26 cells is seen only now and then.
TABLE_SCALE = 10.0
GATE_START = 3.0  # odometer gates start at sigmoid(+-3): see RotorDecipherer.__init__
TOP = 2  # values of each counter mixed in training (the cells they make: TOP ** counters)
SIZES = ("in_vocab_size", "out_vocab_size", "key_vocab_size", "max_key_len")
STARTS = ("key", "learned")
GATES = ("odometer", "all")


@dataclass
class RotorModelConfig(DecipherConfig):
    architecture = "rotor"
    in_vocab_size: int = 0  # 0: filled in from the data
    out_vocab_size: int = 0
    key_vocab_size: int = 0
    max_key_len: int = 0  # key symbols the model reads
    counters: int = 0  # 0: one per key symbol
    positions: int = 26  # values each counter takes
    hard_decode: bool = True  # round counters and gates in use (see the module doc)
    # The defaults of the next two are the first design's, so that runs saved before them
    # load as they were trained; `rnnlab decipher train` asks for "key" and "odometer".
    start: str = "learned"  # "key": counter k starts at key symbol k; "learned": logits
    gates: str = "all"  # "odometer": counter k reads counters k and k + 1; "all": every one

    def __post_init__(self) -> None:
        check_at_least_one(self, (*SIZES, "counters", "positions"), (*SIZES, "counters"))
        for name, allowed in (("start", STARTS), ("gates", GATES)):
            if getattr(self, name) not in allowed:
                raise UserError(f"rotor {name} must be one of {', '.join(allowed)}")

    def sized_for(self, in_vocab: int, out_vocab: int, key_space=None) -> None:
        super().sized_for(in_vocab, out_vocab)
        self.key_vocab_size = len(key_space.alphabet)
        self.max_key_len = key_space.max_symbols
        if key_space.min_symbols != key_space.max_symbols:
            raise UserError("the rotor model reads keys of one length (a start position)")
        if self.start == "key":  # a counter started at a key symbol takes each one's value
            self.positions = max(self.positions, self.key_vocab_size)


@register
class RotorDecipherer(DecipherModel):
    architecture = "rotor"
    config_class = RotorModelConfig
    needs_keys = True
    state_rows_dim = 0  # the state is the counters, (batch, counters, positions)

    def __init__(self, config: RotorModelConfig) -> None:
        super().__init__()
        require_sizes(config, SIZES)
        self.config = config
        c = config
        self.n_counters = c.counters or c.max_key_len
        n, p = self.n_counters, c.positions
        if c.start == "key":
            if n != c.max_key_len or c.key_vocab_size > p:
                raise UserError("counters started from the key need one key symbol per counter")
        else:
            # logits of each counter's start position from each key slot's symbol: counter k
            # starts out reading slot k, letter j as position j (a guess the training may undo)
            start = torch.zeros(c.max_key_len, c.key_vocab_size, n, p)
            for k in range(min(n, c.max_key_len)):
                start[k, :, k] = START_SCALE * torch.eye(c.key_vocab_size, p)
            self.start = nn.Parameter(start)
        self.gate = nn.Linear(n * p, n)
        nn.init.zeros_(self.gate.weight)
        nn.init.zeros_(self.gate.bias)
        mask = None
        if c.gates == "odometer":
            # gate k sees only counter k and its neighbour k + 1 (nearer the entry)
            mask = (torch.eye(n) + torch.diag(torch.ones(n - 1), 1)).repeat_interleave(p, 1)
            # The counter nearest the entry starts advancing at every character, the others
            # start still (gates of 0.95 and 0.05), and training finds when they move. Every
            # gate undecided (0.5; the first design's start) let the table and the gates settle
            # on a wrong labelling in one seed out of three (61% at 4.5 minutes, against 100%
            # from this start); every gate still kept the counters from ever advancing.
            with torch.no_grad():
                self.gate.bias.fill_(-GATE_START)
                self.gate.bias[-1] = GATE_START
        self.register_buffer("gate_mask", mask, persistent=False)
        # one learned table per joint value of the counters: input symbol -> output logits
        self.table = nn.Parameter(torch.zeros(p**n, c.in_vocab_size, c.out_vocab_size))
        self.register_buffer("radix", p ** torch.arange(n - 1, -1, -1), persistent=False)

    def initial_counters(self, keys: torch.Tensor, key_lengths: torch.Tensor) -> torch.Tensor:
        """keys (batch, slots) -> counters (batch, counters, positions), each a distribution."""
        if keys.shape[1] != self.config.max_key_len or bool(
            (key_lengths != self.config.max_key_len).any()
        ):
            raise UserError(f"this model reads keys of exactly {self.config.max_key_len} symbols")
        if self.config.start == "key":
            return F.one_hot(keys, self.config.positions).to(self.table.dtype)
        slots = torch.arange(keys.shape[1], device=keys.device)
        logits = self.start[slots[None, :], keys].sum(1)  # (batch, counters, positions)
        return self._settle(logits.softmax(-1))

    def _settle(self, counters: torch.Tensor) -> torch.Tensor:
        if self.training or not self.config.hard_decode:
            return counters
        return F.one_hot(counters.argmax(-1), counters.shape[-1]).to(counters.dtype)

    def count(self, steps: int, counters: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance the counters once per character: -> their values at every step
        (batch, time, counters, positions) and the last ones."""
        hard = not self.training and self.config.hard_decode
        values = []
        weight = self.gate.weight if self.gate_mask is None else self.gate.weight * self.gate_mask
        for _ in range(steps):
            gates = torch.sigmoid(F.linear(counters.flatten(1), weight, self.gate.bias))[..., None]
            if hard:
                gates = (gates > 0.5).to(counters.dtype)
            counters = self._settle((1 - gates) * counters + gates * counters.roll(1, dims=-1))
            values.append(counters)
        return torch.stack(values, 1), counters

    def forward(
        self,
        inputs: torch.Tensor,
        keys: torch.Tensor,
        key_lengths: torch.Tensor,
        state: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs (batch, time) -> log-probabilities (batch, time, out_vocab) and the
        counters to carry into the next chunk."""
        if state is None:
            state = self.initial_counters(keys, key_lengths)
        counters, state = self.count(inputs.shape[1], state)
        # each counter's TOP most likely values; the cells they make, with their weights
        weight, value = counters.topk(min(TOP, counters.shape[-1]), dim=-1)
        weight = weight / weight.sum(-1, keepdim=True)
        cells = weights = None
        for k in range(self.n_counters):
            v, w = value[:, :, k] * self.radix[k], weight[:, :, k]
            if cells is None:
                cells, weights = v, w
            else:
                cells = (cells[..., :, None] + v[..., None, :]).flatten(-2)
                weights = (weights[..., :, None] * w[..., None, :]).flatten(-2)
        logp = (TABLE_SCALE * self.table[cells, inputs[..., None]]).log_softmax(
            -1
        )  # (B, T, cells, out)
        mixed = torch.logsumexp(logp + weights.clamp(min=1e-12).log()[..., None], dim=-2)
        return mixed, state

    def teacher_forced(self, batch: Batch) -> torch.Tensor:
        return self(batch.inputs, *require_keys(batch))[0]

    def decode(self, inputs, keys=None, key_lengths=None, lengths=None, chunk=TIME_CHUNK):
        """Streams `inputs` in `chunk` pieces, carrying the counters (padding after a row's
        end never changes its real positions: left to right)."""
        if keys is None or key_lengths is None:
            raise UserError("this model needs the key: pass `key`")
        logits, state = chunked(
            inputs, chunk, lambda piece, state: self(piece, keys, key_lengths, state)
        )
        return Decoded(logits.argmax(-1), logits, state)
