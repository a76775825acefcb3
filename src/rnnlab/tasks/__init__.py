"""The two tasks, as plain functions over typed run configs: `decipher` (learn a cipher
from examples, then decrypt) and `lm` (learn a character language model, then sample).

Each has `build_run(options)` (defaults and which options combine), `train`, `load`,
`evaluate` and its way of use; the CLI and any other front end call these.
"""
