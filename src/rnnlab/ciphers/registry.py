"""Name -> cipher class. Each family registers itself when its module is imported."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnlab.errors import UserError

if TYPE_CHECKING:
    from rnnlab.ciphers.base import Cipher

_REGISTRY: dict[str, type[Cipher]] = {}


def register(cls: type[Cipher]) -> type[Cipher]:
    if cls.name in _REGISTRY:
        raise ValueError(f"cipher {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def cipher_names() -> list[str]:
    return sorted(_REGISTRY)


def cipher_classes() -> list[type[Cipher]]:
    """Every registered family, in registration order (the order of the imports in
    ciphers/__init__.py, then of the classes in each module): the order messages list them."""
    return list(_REGISTRY.values())


def cipher_class(name: str) -> type[Cipher]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UserError(
            f"unknown cipher {name!r}; known ciphers: {', '.join(cipher_names())}"
        ) from None


def get_cipher(name: str, key: Any = None, alphabet: str | None = None) -> Cipher:
    """Build a registered cipher. `key=None` and `alphabet=None` take the family's defaults."""
    from rnnlab.ciphers.alphabet import Alphabet

    cls = cipher_class(name)
    return cls(key=key, alphabet=Alphabet(alphabet) if alphabet is not None else None)
