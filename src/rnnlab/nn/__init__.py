"""Recurrent layers: drop-in torch.nn.RNN / LSTM / GRU with a choice of implementation
(torch, scratch, compiled), the from-scratch Elman network of seed 003, and two LSTM
variants for the character LM: the Mogrifier LSTM and the layer-normalised LSTM."""

from rnnlab.nn.elman import ElmanRNN
from rnnlab.nn.layernorm import LayerNormLSTM
from rnnlab.nn.modules import GRU, IMPLS, LSTM, RNN
from rnnlab.nn.mogrifier import MogrifierLSTM

__all__ = ["GRU", "IMPLS", "LSTM", "RNN", "ElmanRNN", "LayerNormLSTM", "MogrifierLSTM"]
