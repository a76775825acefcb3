"""The names the library accepts for its options, importable without torch.

The CLI offers these as argparse choices, and builds its parser on every start, so they
cannot live in the torch modules that act on them: `rnnlab --help` and `rnnlab cipher …`
would then load torch (seconds) for nothing. Tuples defined here are imported by the
modules that use them; where a module maps the names onto torch objects (an optimiser
class, a dtype) it keeps that map, and tests/test_cli_startup.py checks both agree.
"""

# fixed: one key for every message; given: a random key per message, handed to the model;
# unknown: a random key per message that the model must infer from the ciphertext.
KEY_MODES = ("fixed", "given", "unknown")

# How the two-pass model's key reader pools the message into key slots.
POOLINGS = ("attention", "periodic", "symbol")

# Who computes a recurrent layer: torch.nn, rnnlab's cells in a Python loop, or rnnlab's
# cells with a hand-written backward pass.
IMPLS = ("torch", "scratch", "compiled")

# Recurrent cells (the keys of models.tagger.RNN_CLASSES).
RNN_MODELS = ("lstm", "gru", "elman")
# The language model's cells: those, and two LSTM variants (rnnlab.nn.MogrifierLSTM,
# rnnlab.nn.LayerNormLSTM) that only run as rnnlab's own per-step loop.
LM_MODELS = (*RNN_MODELS, "mogrifier", "lnlstm")

# Training (the keys of train.optim.OPTIMIZERS, train.precision.NAMES, TrainConfig's
# schedules).
OPTIMIZERS = ("adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "cosine")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")

# Starting points for `rnnlab lm train` (the keys of lm.PRESETS).
LM_PRESETS = ("cpu", "cuda", "seed")

# `rnnlab bench` cases (the keys of bench.CASES).
BENCH_CASES = ("lm", "small", "decipher")
