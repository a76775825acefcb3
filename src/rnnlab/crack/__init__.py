"""Classical cryptanalysis: break registry ciphers without a key, scored by n-grams.

>>> crack("WKLV LV D VHFUHW", cipher="caesar").plaintext
'THIS IS A SECRET'
"""

from rnnlab.crack import (  # noqa: F401  (importing an attack registers it)
    exhaustive,
    periodic,
    substitution,
)
from rnnlab.crack.solve import CrackResult, crack

__all__ = ["CrackResult", "crack"]
