"""Architecture name -> model class. Each model module registers its class on import.

config.json records the name (decipher runs as "architecture"; the char LM has one), and
everything that builds or loads a model goes through here, so the rest of rnnlab never
asks which class a model is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnlab.errors import UserError

if TYPE_CHECKING:
    from rnnlab.models.base import TaskModel

_MODELS: dict[str, type[TaskModel]] = {}


def register(cls: type[TaskModel]) -> type[TaskModel]:
    if cls.architecture in _MODELS:
        raise ValueError(f"architecture {cls.architecture!r} registered twice")
    _MODELS[cls.architecture] = cls
    return cls


def architectures(task: str) -> list[str]:
    _load_all()
    return sorted(name for name, cls in _MODELS.items() if cls.task == task)


def model_class(architecture: str, task: str) -> type[TaskModel]:
    _load_all()
    cls = _MODELS.get(architecture)
    if cls is None or cls.task != task:
        raise UserError(f"config.json names an unknown {task} architecture {architecture!r}")
    return cls


def build_model(config: Any) -> TaskModel:
    """The model a config describes (its sizes filled in from the data)."""
    _load_all()
    return _MODELS[config.architecture](config)


def _load_all() -> None:
    # Importing the package imports every model module, and each registers itself.
    import rnnlab.models  # noqa: F401
