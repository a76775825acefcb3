"""`from rnnlab import decipher`: the decipher task's public functions in one place.

The code lives in `rnnlab.tasks.decipher` (train, load, decrypt, evaluate) and
`rnnlab.tasks.decipher_config` (the run configs and `build_run`); the model and training
configs a run is made of are here too.
"""

from rnnlab.models.feedback import FeedbackModelConfig
from rnnlab.models.keyed import KeyedModelConfig
from rnnlab.models.tagger import TaggerConfig
from rnnlab.models.twopass import TwoPassModelConfig
from rnnlab.tasks.decipher import *  # noqa: F403
from rnnlab.tasks.decipher import __all__ as _task_all
from rnnlab.tasks.decipher_config import *  # noqa: F403
from rnnlab.tasks.decipher_config import __all__ as _config_all
from rnnlab.train import TrainConfig

__all__ = [
    *_task_all,
    *_config_all,
    "FeedbackModelConfig",
    "KeyedModelConfig",
    "TaggerConfig",
    "TrainConfig",
    "TwoPassModelConfig",
]
