"""`from rnnlab import lm`: the language-model task's public functions (the code lives in
`rnnlab.tasks.lm`), with the model and training configs they take."""

from rnnlab.models.charlm import CharLM, CharLMConfig
from rnnlab.tasks.lm import *  # noqa: F403
from rnnlab.tasks.lm import __all__ as _task_all
from rnnlab.train import TrainConfig

__all__ = [*_task_all, "CharLM", "CharLMConfig", "TrainConfig"]
