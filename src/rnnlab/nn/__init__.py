"""Recurrent layers: the from-scratch Elman network of seed 003, and the torch.nn ones."""

from rnnlab.nn.elman import ElmanRNN

__all__ = ["ElmanRNN"]
