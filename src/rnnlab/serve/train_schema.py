"""The web API's view of the options declaration: `/api/train`'s request model (one per
task, told apart by "task", so /docs and /openapi.json show every field with its bounds and
choices) and the description the page builds its Train form from.

Options that name a file on the server are the command line's: a page must not make the
server read (and then generate from) a file of its choosing; they are not in the model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from rnnlab.errors import option_words
from rnnlab.options import ARCHITECTURES, DECLARATIONS
from rnnlab.options.spec import Declaration, Option

PYTHON_TYPES: dict[str, Any] = {"int": int, "float": float, "str": str, "bool": bool}


def field_type(option: Option) -> Any:
    choices = option.web_choices or option.choices
    if choices is not None:
        return Literal[tuple(choices)]
    if option.accepts_number:
        return str | int
    return PYTHON_TYPES[option.kind]


def request_model(declaration: Declaration) -> type[BaseModel]:
    fields: dict[str, Any] = {"task": (Literal[declaration.task], ...)}
    for option in declaration:
        if option.file:
            continue
        bounds = {
            "ge": option.minimum,
            "le": option.maximum,
            "gt": option.above,
            "lt": option.below,
        }
        fields[option.name] = (
            field_type(option) | None,
            Field(
                None,
                title=option.label,
                description=option.help,
                # `true` is not a number: JSON's booleans stay booleans
                strict=True if option.kind == "int" else None,
                **{k: v for k, v in bounds.items() if v is not None},
            ),
        )
    name = f"{declaration.task.capitalize()}TrainRequest"
    model = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
    model.__doc__ = (
        f"`task` {declaration.task!r} and the options of `rnnlab {declaration.task} train` "
        "(any left out take their defaults)."
    )
    return model


DecipherTrainRequest = request_model(DECLARATIONS["decipher"])
LMTrainRequest = request_model(DECLARATIONS["lm"])
TrainRequest = Annotated[
    Union[DecipherTrainRequest, LMTrainRequest],  # noqa: UP007 (pydantic's discriminated union)
    Field(discriminator="task"),
]


def given(body: BaseModel) -> dict[str, Any]:
    """The options a request gave (not its task)."""
    return body.model_dump(exclude_unset=True, exclude={"task"})


def form_description(default_preset: str) -> dict[str, Any]:
    """Everything the page's Train form shows, for every task: fields, labels, help,
    defaults (by architecture or preset), bounds and choices."""
    return {
        "decipher": {
            "options": DECLARATIONS["decipher"].describe(web=True),
            "architectures": [
                {"name": a.name, "help": a.help, "key_modes": list(a.key_modes)}
                for a in ARCHITECTURES.values()
            ],
        },
        "lm": {
            "options": DECLARATIONS["lm"].describe(web=True),
            "default_preset": default_preset,
        },
    }


def label(name: str) -> str:
    for declaration in DECLARATIONS.values():
        if name in declaration:
            return declaration[name].label
    return name.replace("_", " ")


def in_page_words(message: str) -> str:
    """A library message with each option as the page's label for it, never a --flag."""
    words = option_words(message, label)
    return words[:1].upper() + words[1:] if message.startswith("`") else words
