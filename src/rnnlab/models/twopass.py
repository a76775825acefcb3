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

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnnlab.choices import POOLINGS
from rnnlab.data.batch import Batch
from rnnlab.errors import UserError
from rnnlab.models.base import (
    TIME_CHUNK,
    DecipherConfig,
    DecipherModel,
    LossOutput,
    check_at_least_one,
    require_keys,
    require_sizes,
    token_loss,
)
from rnnlab.models.keyed import SIZES, KeyedDecipherer, KeyedModelConfig, used_slots
from rnnlab.models.keyreader import KeyReader, KeyReaderConfig
from rnnlab.models.registry import register

KEY_WINDOW = 2048  # characters the two-pass model reads to infer a message's key


@dataclass
class TwoPassModelConfig(DecipherConfig):
    architecture = "twopass"
    in_vocab_size: int = 0  # 0: filled in from the data
    out_vocab_size: int = 0
    key_vocab_size: int = 0
    max_key_len: int = 0
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
        the language instead of the table. Periodic (Vigenère) keys learned on English
        alone in two runs of three; the third (seed 0 of benchmarks/seeds) leaned on the
        language the same way and stalled at 65% of characters. So keys of several
        symbols get the drill; single-symbol keys (pooling "attention": Caesar, affine)
        learn on English alone in every run measured."""
        return self.pooling in ("symbol", "periodic")

    # None: decided when the key space is known — on for keys of several symbols (pass 2
    # must step through them, see KeyedModelConfig), off for one-symbol keys (nothing to
    # step through, and the fed loop costs 1.5x the training time).
    feed_location: bool | None = None

    def reader_config(self) -> KeyReaderConfig:
        return KeyReaderConfig(
            in_vocab_size=self.in_vocab_size,
            key_vocab_size=self.key_vocab_size,
            min_key_len=self.min_key_len,
            max_key_len=self.max_key_len,
            embedding=self.embedding,
            hidden=self.reader_hidden,
            layers=self.reader_layers,
            pooling=self.pooling,
            symbol_rounds=self.symbol_rounds,
        )

    def __post_init__(self) -> None:
        sizes = ("embedding", "reader_hidden", "reader_layers", "hidden", "attention")
        check_at_least_one(self, (*SIZES, *sizes), SIZES)
        if self.max_key_len and not 1 <= self.min_key_len <= self.max_key_len:
            raise UserError(
                f"min_key_len must be 1 … max_key_len ({self.max_key_len}), got {self.min_key_len}"
            )
        if self.pooling not in POOLINGS:
            raise UserError(f"unknown key pooling {self.pooling!r}; use {', '.join(POOLINGS)}")

    def sized_for(self, in_vocab: int, out_vocab: int, key_space=None) -> None:
        super().sized_for(in_vocab, out_vocab)
        self.key_vocab_size = len(key_space.alphabet)
        self.max_key_len = key_space.max_symbols
        self.min_key_len = key_space.min_symbols
        if self.feed_location is None:
            self.feed_location = self.max_key_len > 1

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


@register
class TwoPassDecipherer(DecipherModel):
    architecture = "twopass"
    config_class = TwoPassModelConfig
    names_keys = True

    def __init__(self, config: TwoPassModelConfig) -> None:
        super().__init__()
        require_sizes(config, SIZES)
        self.config = config
        self.reader = KeyReader(config.reader_config())
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

    def teacher_forced(self, batch: Batch) -> torch.Tensor:
        """Pass 2 under the *true* keys (which says nothing of how well the model
        decrypts: that is `decode`'s, under the keys it names)."""
        return self.decipherer(batch.inputs, *require_keys(batch))[0]

    def loss(self, batch: Batch, state=None) -> LossOutput:
        """Both passes learn from every batch: pass 2 decrypts under the true key, pass 1
        learns to name that key; with table keys pass 2 also applies the same keys to
        uniformly random text (`uniform_drill`)."""
        loss = token_loss(self.teacher_forced(batch), batch.targets)
        loss = loss + self.key_loss(batch.inputs, *require_keys(batch))
        if batch.uniform is not None:
            drill = self.teacher_forced(batch.uniform)
            loss = loss + token_loss(drill, batch.uniform.targets)
        # No "correct": teacher-forced accuracy under the true key would flatter the model.
        return LossOutput(loss, {"count": float(batch.num_targets)})

    def decode(self, inputs, keys=None, key_lengths=None, lengths=None, chunk=TIME_CHUNK):
        """Whatever keys the caller holds, decrypt under the model's own, named once per
        message from its first KEY_WINDOW characters."""
        named = self.name_keys(inputs, lengths)
        decoded = self.decipherer.decode(inputs, *named, chunk=chunk)
        decoded.keys = named
        return decoded

    def name_keys(
        self, inputs: torch.Tensor, lengths: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The key for each row, read from the row's first KEY_WINDOW characters — its real
        ones only, when `lengths` marks right-padded rows (the reader is bidirectional:
        padding would reach every position). Pass 2 reads left to right, so padding after
        a row's end never changes its real positions."""
        if lengths is None:
            return self.guess_key(inputs[:, :KEY_WINDOW])
        guesses = [
            self.guess_key(inputs[row : row + 1, : min(int(n), KEY_WINDOW)])
            for row, n in enumerate(lengths)
        ]
        return torch.cat([k for k, _ in guesses]), torch.cat([n for _, n in guesses])
