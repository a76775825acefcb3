"""Every registered family declares what it knows about its keys, and crack finds its
attack by the family's name: adding a family is its module (plus its attack) and tests.

These walk the registries rather than naming families, so a new family is checked the
moment it registers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnlab.ciphers import cipher_class, cipher_names, get_cipher
from rnnlab.ciphers.keygen import KeySpace, key_symbols, key_text, random_key_families
from rnnlab.crack.attacks import attack_for, attacks
from rnnlab.crack.identify import NO_ATTACK
from rnnlab.errors import UserError

ALPHABETS = ("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "ABCDEFGHIJKLMNOPQRSTUVWXYZ-", "ABCDEFGHIJ")


@pytest.mark.parametrize("name", random_key_families())
@pytest.mark.parametrize("alphabet", ALPHABETS)
def test_random_keys_build_ciphers_and_read_back_from_their_symbols(name, alphabet):
    if name == "enigma" and alphabet != "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        pytest.skip("the Enigma works over A-Z only")
    space = KeySpace(name, alphabet, (2, 5))
    assert space.size > 0
    assert math.isclose(cipher_class(name).key_nats(len(alphabet), (2, 5)), math.log(space.size))
    assert 1 <= space.min_symbols <= space.max_symbols
    rng = np.random.default_rng(0)
    for _ in range(20):
        cipher = get_cipher(name, key=space.draw(rng), alphabet=alphabet)
        symbols = key_symbols(cipher)
        assert space.min_symbols <= len(symbols) <= space.max_symbols
        assert all(0 <= s < len(alphabet) for s in symbols)
        again = get_cipher(name, key=key_text(name, alphabet, symbols), alphabet=alphabet)
        assert again.key == cipher.key


@pytest.mark.parametrize("name", sorted(set(cipher_names()) - set(random_key_families())))
def test_a_family_without_random_keys_says_so_everywhere_keys_are_drawn_or_read(name):
    cls = cipher_class(name)
    with pytest.raises(UserError, match=f"needs random keys, which {name} does not have"):
        KeySpace(name, cls.default_alphabet)
    with pytest.raises(UserError, match=f"{name} keys cannot be given to a model"):
        key_symbols(get_cipher(name))
    with pytest.raises(UserError, match=f"{name} keys are not read as symbols"):
        key_text(name, cls.default_alphabet, [0])


@pytest.mark.parametrize("name", cipher_names())
def test_every_family_has_an_attack_and_its_shortest_text_or_is_the_no_attack_one(name):
    attack, shortest = attack_for(name), cipher_class(name).min_crack_letters
    if attack is None:
        assert name == NO_ATTACK
        assert shortest is None
        return
    assert shortest is not None and shortest >= 1
    if attack.identifies:  # identification charges each family its key-space size
        assert cipher_class(name).key_nats(26, (5, 5)) >= 0


def test_every_attack_is_for_a_registered_family_and_some_compete_in_identification():
    for attack in attacks():
        cipher_class(attack.family)  # raises for a name the cipher registry does not know
    assert any(a.exhaustive and a.identifies for a in attacks())
