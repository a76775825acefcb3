"""`from rnnlab import lm`: the language-model task's public functions (the code lives in
`rnnlab.tasks.lm`)."""

from rnnlab.tasks.lm import *  # noqa: F403
