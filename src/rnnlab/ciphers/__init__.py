"""Classical ciphers over an Alphabet, behind one registry.

>>> get_cipher("caesar", key=13).encrypt("THIS-IS-A-SECRET")
'FUVEMVEMNMERPDRF'
"""

from rnnlab.ciphers import (  # noqa: F401  (importing a family registers it)
    caesar,
    enigma,
    monoalphabetic,
    polyalphabetic,
)
from rnnlab.ciphers.alphabet import LATIN, SEED_ALPHABET, Alphabet
from rnnlab.ciphers.base import Cipher
from rnnlab.ciphers.registry import cipher_class, cipher_names, get_cipher

__all__ = [
    "LATIN",
    "SEED_ALPHABET",
    "Alphabet",
    "Cipher",
    "cipher_class",
    "cipher_names",
    "get_cipher",
]
