"""The Enigma I / M3: three rotors from I-VIII, reflector B or C, ring settings, start
positions and a plugboard, with the double-stepping anomaly.

Key syntax (every part optional; defaults shown):

    rotors=I,II,III reflector=B rings=AAA start=AAA plugboard=AV,BS,CG

A bare three-letter part is the start position (`ADU` is `start=ADU`). Under --key-mode
given the run's --key names the machine (no start) and each message draws its own start
position, which is the key the model is handed and `decipher run --key ADU` takes.

Each key press first steps the rotors, then sends the current through the plugboard, the
rotors right to left, the reflector, the rotors left to right and the plugboard again.
Stepping: the right rotor always steps; a rotor at its notch steps the one to its left;
and the middle rotor, when at its own notch, steps itself along with the left one — the
double step, which makes the middle rotor advance on two consecutive key presses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from rnnlab.ciphers.alphabet import LATIN, Alphabet
from rnnlab.ciphers.base import Cipher
from rnnlab.ciphers.registry import register
from rnnlab.errors import UserError

# Wirings (the letter each input A..Z leaves as) and turnover notches, from the machines.
ROTORS: dict[str, tuple[str, str]] = {
    "I": ("EKMFLGDQVZNTOWYHXUSPAIBRCJ", "Q"),
    "II": ("AJDKSIRUXBLHWTMCQGZNPYFVOE", "E"),
    "III": ("BDFHJLCPRTXVZNYEIWGAKMUSQO", "V"),
    "IV": ("ESOVPZJAYQUIRHXLNFTGKDCMWB", "J"),
    "V": ("VZBRGITYUPSDNHLXAWMJQOFECK", "Z"),
    "VI": ("JPGVOUMFYQBENHZRDKASXLICTW", "ZM"),
    "VII": ("NZJHGRCXMYSWBOUFAIVLPEKQDT", "ZM"),
    "VIII": ("FKQHTLXOCBJSPDZRAMEWNIUYGV", "ZM"),
}
REFLECTORS = {"B": "YRUHQSLDPXNGOKMIEBFZCWVJAT", "C": "FVPJIAOYEDRZXWGCTKUQSBNMHL"}


def _index(ch: str) -> int:
    return ord(ch) - ord("A")


def is_start(text: str) -> bool:
    """Three letters: a start position."""
    return len(text) == 3 and all(c in LATIN for c in text.upper())


@dataclass(frozen=True)
class EnigmaSettings:
    rotors: tuple[str, str, str] = ("I", "II", "III")  # left, middle, right
    reflector: str = "B"
    rings: str = "AAA"
    start: str = "AAA"
    plugboard: tuple[str, ...] = ()

    @classmethod
    def parse(cls, key: str | None) -> EnigmaSettings:
        if key is None:
            return cls()
        fields: dict[str, str] = {}
        for part in str(key).split():
            if is_start(part):
                part = f"start={part}"
            name, sep, value = part.partition("=")
            name = name.lower()
            if not sep or name not in ("rotors", "reflector", "rings", "start", "plugboard"):
                raise UserError(
                    f"enigma key part {part!r} not understood; expected e.g. 'rotors=I,II,III "
                    f"reflector=B rings=AAA start=AAA plugboard=AV,BS'"
                )
            fields[name] = value.upper()
        defaults = cls()
        rotors = tuple(fields["rotors"].split(",")) if "rotors" in fields else defaults.rotors
        pairs = tuple(p for p in fields.get("plugboard", "").split(",") if p)
        settings = cls(
            rotors,
            fields.get("reflector", defaults.reflector),
            fields.get("rings", defaults.rings),
            fields.get("start", defaults.start),
            pairs,
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if len(self.rotors) != 3 or any(r not in ROTORS for r in self.rotors):
            raise UserError(
                f"enigma rotors must be three of {', '.join(ROTORS)}, got {self.rotors}"
            )
        if len(set(self.rotors)) != 3:
            raise UserError(f"enigma rotors must be three different rotors, got {self.rotors}")
        if self.reflector not in REFLECTORS:
            raise UserError(f"enigma reflector must be B or C, got {self.reflector!r}")
        for name in ("rings", "start"):
            value = getattr(self, name)
            if len(value) != 3 or any(c not in LATIN for c in value):
                raise UserError(f"enigma {name} must be three letters like AAA, got {value!r}")
        seen: set[str] = set()
        for pair in self.plugboard:
            if len(pair) != 2 or any(c not in LATIN for c in pair) or pair[0] == pair[1]:
                raise UserError(f"enigma plugboard pair {pair!r} must be two different letters")
            if seen & set(pair):
                raise UserError(f"enigma plugboard uses a letter twice: {pair!r}")
            seen |= set(pair)
        if len(self.plugboard) > 13:
            raise UserError("enigma plugboard has at most 13 pairs")

    def __str__(self) -> str:
        text = (
            f"rotors={','.join(self.rotors)} reflector={self.reflector} "
            f"rings={self.rings} start={self.start}"
        )
        return text + (f" plugboard={','.join(self.plugboard)}" if self.plugboard else "")


@register
class Enigma(Cipher):
    name = "enigma"
    summary = "Enigma I / M3, key 'rotors=I,II,III reflector=B rings=AAA start=AAA plugboard=AV'"
    default_alphabet = LATIN
    random_keys = True  # the start position: a machine's settings stay fixed
    fixed_settings = True

    def __init__(self, key=None, alphabet: Alphabet | None = None) -> None:
        if alphabet is not None and alphabet.chars != LATIN:
            raise UserError("enigma works over the 26 letters A-Z only")
        super().__init__(Alphabet(LATIN))
        self.settings = EnigmaSettings.parse(key)
        s = self.settings
        self.wirings = [[_index(c) for c in ROTORS[r][0]] for r in s.rotors]
        self.inverse = [[w.index(i) for i in range(26)] for w in self.wirings]
        self.notches = [{_index(c) for c in ROTORS[r][1]} for r in s.rotors]
        self.reflector = [_index(c) for c in REFLECTORS[s.reflector]]
        self.rings = [_index(c) for c in s.rings]
        self.plug = list(range(26))
        for a, b in s.plugboard:
            self.plug[_index(a)], self.plug[_index(b)] = _index(b), _index(a)

    @property
    def key(self) -> str:
        return str(self.settings)

    # -- random start positions (--key-mode given): the key a model reads is the start --

    @classmethod
    def random_key(cls, rng: np.random.Generator, alphabet: str, key_length) -> str:
        return "".join(LATIN[i] for i in rng.integers(0, 26, size=3))

    @classmethod
    def key_count(cls, m: int, key_length) -> int:
        return 26**3

    @classmethod
    def key_symbol_range(cls, m: int, key_length) -> tuple[int, int]:
        return 3, 3

    def key_symbols(self) -> list[int]:
        return [_index(c) for c in self.settings.start]

    @classmethod
    def key_from_symbols(cls, alphabet: str, symbols: list[int]) -> str:
        return "".join(LATIN[s] for s in symbols)

    @classmethod
    def message_key(cls, fixed: str | None, key: str) -> str:
        if not is_start(str(key)):
            raise UserError(f"an enigma start position is three letters like ADU, got {key!r}")
        if fixed is not None and any(
            p.lower().startswith("start=") or is_start(p) for p in str(fixed).split()
        ):
            raise UserError("each message draws its own start position: drop start= from `key`")
        return str(replace(EnigmaSettings.parse(fixed), start=str(key).upper()))

    def _run(self, indices: Sequence[int]) -> list[int]:
        positions = [_index(c) for c in self.settings.start]  # left, middle, right
        out = []
        for x in indices:
            positions = self.step(positions)
            x = self.plug[x]
            for r in (2, 1, 0):
                x = self._through(x, r, positions[r], self.wirings[r])
            x = self.reflector[x]
            for r in (0, 1, 2):
                x = self._through(x, r, positions[r], self.inverse[r])
            out.append(self.plug[x])
        return out

    encrypt_indices = _run
    decrypt_indices = _run  # the reflector makes every setting its own inverse

    def step(self, positions: list[int]) -> list[int]:
        left, middle, right = positions
        if middle in self.notches[1]:  # the double step: middle and left advance together
            middle, left = (middle + 1) % 26, (left + 1) % 26
        elif right in self.notches[2]:
            middle = (middle + 1) % 26
        return [left, middle, (right + 1) % 26]

    def _through(self, x: int, rotor: int, position: int, wiring: list[int]) -> int:
        shift = position - self.rings[rotor]
        return (wiring[(x + shift) % 26] - shift) % 26
