"""What an option is, and the checks every front end shares.

A task declares each option a person may choose once (`Option`): its type, default, a
one-line help, its choices or bounds, and where config.json records it. The CLI's flags,
the web API's request model and Train form, TOML config files and the resume check are
all made from that declaration (`Declaration`), so a default or a bound lives in one place.

An option that is not given is absent, never a default written in: `Options.given` is the
one notion of "given" for every front end (typed on the command line, in a config file, in
a web request), and the resume check asks it.

Nothing here imports torch: the CLI builds its parser from these on every start.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from rnnlab.errors import UserError

KINDS = ("int", "float", "str", "bool")
KIND_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "str": "a string",
    "bool": "true or false",
}


@dataclass(frozen=True)
class Option:
    """One option of a task. `default` is what a run gets when the option is not given;
    `by` holds defaults that depend on the context the task resolves first (decipher: the
    architecture; lm: the preset), and `default_text` says in words a default that no
    single value states."""

    name: str
    kind: str
    help: str
    label: str = ""
    default: Any = None
    by: Mapping[str, Any] = dataclass_field(default_factory=dict)
    default_text: str | None = None
    choices: tuple[str, ...] | None = None
    web_choices: tuple[str, ...] | None = None  # what the page offers, if fewer (no files)
    minimum: float | None = None  # inclusive bounds
    maximum: float | None = None
    above: float | None = None  # exclusive bounds
    below: float | None = None
    archs: tuple[str, ...] | None = None  # decipher: the architectures that take it
    section: str | None = None  # where config.json records it: data, model or train
    field: str | None = None  # the config field (default: the option's name)
    # another field in some contexts (the two-pass model's `hidden` sizes its key reader)
    fields_by: Mapping[str, str] = dataclass_field(default_factory=dict)
    file: bool = False  # names a file on the server: the CLI's and config files' only
    switch: bool = False  # a bool turned on by its flag alone (--bidirectional)
    accepts_number: bool = False  # a str that may be written as a number (a caesar key)
    metavar: str | None = None
    group: str = "training"  # the heading it is shown under on the page

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind
        if not self.label:
            object.__setattr__(self, "label", self.name.replace("_", " ").capitalize())

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def default_for(self, context: str | None) -> Any:
        return self.by.get(context, self.default) if context is not None else self.default

    def field_for(self, context: str | None) -> str | None:
        if self.section is None:
            return None
        return self.fields_by.get(context or "", self.field or self.name)

    def check(self, value: Any) -> Any:
        """The value, as its kind, or a UserError naming this option (`name` ...)."""
        value = self.of_kind(value)
        if self.choices is not None and value not in self.choices:
            raise UserError(
                f"`{self.name}` must be one of {', '.join(self.choices)}, got {value!r}"
            )
        if self.kind in ("int", "float"):
            self.check_bounds(value)
        return value

    def of_kind(self, value: Any) -> Any:
        is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if self.kind == "bool" and isinstance(value, bool):
            return value
        if self.kind == "int" and is_number and float(value).is_integer():
            return int(value)
        if self.kind == "float" and is_number:
            if not math.isfinite(value):
                raise UserError(f"`{self.name}` must be a finite number, got {value!r}")
            return float(value)
        if self.kind == "str" and isinstance(value, str):
            return value
        if self.kind == "str" and self.accepts_number and is_number and not math.isnan(value):
            return str(value)
        raise UserError(f"`{self.name}` must be {KIND_WORDS[self.kind]}, got {value!r}")

    def check_bounds(self, value: float) -> None:
        if self.minimum is not None and value < self.minimum:
            raise UserError(f"`{self.name}` must be at least {self.minimum:g}, got {value:g}")
        if self.maximum is not None and value > self.maximum:
            raise UserError(f"`{self.name}` must be at most {self.maximum:g}, got {value:g}")
        if self.above is not None and not value > self.above:
            raise UserError(f"`{self.name}` must be above {self.above:g}, got {value:g}")
        if self.below is not None and not value < self.below:
            raise UserError(f"`{self.name}` must be below {self.below:g}, got {value:g}")

    def bounds_text(self) -> str:
        parts = []
        if self.minimum is not None:
            parts.append(f">= {self.minimum:g}")
        if self.above is not None:
            parts.append(f"> {self.above:g}")
        if self.maximum is not None:
            parts.append(f"<= {self.maximum:g}")
        if self.below is not None:
            parts.append(f"< {self.below:g}")
        return ", ".join(parts)

    def describe(self, web: bool = False) -> dict[str, Any]:
        """What a form needs to show this option: JSON, no defaults left to the page."""
        choices = self.web_choices if web and self.web_choices else self.choices
        return {
            "name": self.name,
            "label": self.label,
            "help": self.help,
            "type": self.kind,
            "default": self.default,
            "defaults": dict(self.by),
            "default_text": self.default_text,
            "choices": list(choices) if choices is not None else None,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "above": self.above,
            "below": self.below,
            "archs": list(self.archs) if self.archs is not None else None,
            "group": self.group,
        }


@dataclass(frozen=True)
class Declaration:
    """Every option of one task's `train`, and the pairs of them that exclude each other."""

    task: str
    options: tuple[Option, ...]
    exclusive: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        names = [o.name for o in self.options]
        assert len(names) == len(set(names)), names

    def __iter__(self) -> Iterator[Option]:
        return iter(self.options)

    def __contains__(self, name: object) -> bool:
        return any(o.name == name for o in self.options)

    def __getitem__(self, name: str) -> Option:
        for option in self.options:
            if option.name == name:
                return option
        raise KeyError(name)

    def names(self) -> list[str]:
        return [o.name for o in self.options]

    def merge(self, *layers: Mapping[str, Any]) -> dict[str, Any]:
        """Layers of given values, later ones winning (a saved run's, a config file's, the
        flags'); a later layer's option also drops an earlier one's that it excludes, so
        `max_time` on the command line replaces `steps` from a config file."""
        merged: dict[str, Any] = {}
        for layer in layers:
            given = {k: v for k, v in layer.items() if v is not None}
            for a, b in self.exclusive:
                for mine, other in ((a, b), (b, a)):
                    if mine in given and other not in given:
                        merged.pop(other, None)
            merged.update(given)
        return merged

    def check(self, values: Mapping[str, Any]) -> Options:
        """The given values (None: not given), each checked against its option."""
        given: dict[str, Any] = {}
        for name, value in values.items():
            if name not in self:
                raise UserError(f"{self.task} train has no option {name!r}")
            if value is not None:
                given[name] = self[name].check(value)
        for a, b in self.exclusive:
            if a in given and b in given:
                raise UserError(f"`{a}` and `{b}` exclude each other: give one")
        return Options(self, given)

    def describe(self, web: bool = False) -> list[dict[str, Any]]:
        return [o.describe(web) for o in self.options if not (web and o.file)]


class Options:
    """The options a person gave for one task, checked; the rest take their defaults."""

    def __init__(self, declaration: Declaration, given: dict[str, Any]) -> None:
        self.declaration = declaration
        self.given = dict(given)

    @property
    def chosen(self) -> frozenset[str]:
        return frozenset(self.given)

    def __contains__(self, name: str) -> bool:
        return name in self.given

    def get(self, name: str, context: str | None = None) -> Any:
        """The given value, else the default in `context`."""
        if name in self.given:
            return self.given[name]
        return self.declaration[name].default_for(context)

    def fields(self, context: str | None) -> frozenset[str]:
        """The config fields the given options set, in `context` (for the resume check)."""
        found = (self.declaration[name].field_for(context) for name in self.given)
        return frozenset(f for f in found if f is not None)

    def __repr__(self) -> str:
        return f"Options({self.declaration.task}, {self.given!r})"
