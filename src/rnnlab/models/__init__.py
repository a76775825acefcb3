"""Task models behind one interface (`models/base.py`), registered by architecture name.

tagger    ciphertext symbol in, plaintext symbol out (seeds 000-002)
keyed     a tagger handed each message's key (--key-mode given)
feedback  a tagger that also reads its own last outputs (autokey)
rotor     learned counters driving learned tables (the Enigma, --key-mode given)
twopass   names each message's key, then decrypts under it (--key-mode unknown)
charlm    a character language model (seed 003)
"""

from rnnlab.models import charlm, feedback, keyed, rotor, tagger, twopass  # noqa: F401  (registers)
