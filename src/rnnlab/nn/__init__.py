"""Recurrent layers: drop-in torch.nn.RNN / LSTM / GRU with a choice of implementation
(torch, scratch, compiled), and the from-scratch Elman network of seed 003."""

from rnnlab.nn.elman import ElmanRNN
from rnnlab.nn.modules import GRU, IMPLS, LSTM, RNN

__all__ = ["GRU", "IMPLS", "LSTM", "RNN", "ElmanRNN"]
