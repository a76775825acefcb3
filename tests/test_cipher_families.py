"""Cipher families beyond the shift: published test vectors and property round trips."""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.ciphers import cipher_names, get_cipher
from rnnlab.ciphers.enigma import REFLECTORS, ROTORS
from rnnlab.errors import UserError
from tests.helpers import load_benchmark

BARBAROSSA_KEY = (
    "rotors=II,IV,V reflector=B rings=BUL start=BLA plugboard=AV,BS,CG,DL,FU,HZ,IN,KM,OW,RX"
)
BARBAROSSA_CIPHERTEXT = (
    "EDPUDNRGYSZRCXNUYTPOMRMBOFKTBZREZKMLXLVEFGUEYSIOZVEQMIKUBPMMYLKLTTDEISMDICAGYKUACTCDO"
    "MOHWXMUUIAUBSTSLRNBZSZWNRFXWFYSSXJZVIJHIDISHPRKLKAYUPADTXQSPINQMATLPIFSVKDASCTACDPBOP"
    "VHJK"
)
BARBAROSSA_PLAINTEXT = (
    "AUFKLXABTEILUNGXVONXKURTINOWAXKURTINOWAXNORDWESTLXSEBEZXSEBEZXUAFFLIEGERSTRASZERIQTUN"
    "GXDUBROWKIXDUBROWKIXOPOTSCHKAXOPOTSCHKAXUMXEINSAQTDREINULLXUHRANGETRETENXANGRIFFXINFX"
    "RGTX"
)


@pytest.mark.parametrize(
    "name, key, plaintext, ciphertext",
    [
        ("vigenere", "LEMON", "ATTACKATDAWN", "LXFOPVEFRNHR"),
        (
            "beaufort",
            "FORTIFICATION",
            "DEFENDTHEEASTWALLOFTHECASTLE",
            "CKMPVCPVWPIWUJOGIUAPVWRIWUUK",
        ),
        ("autokey", "QUEENLY", "ATTACKATDAWN", "QNXEPVYTWTWP"),
        ("affine", "5,8", "AFFINECIPHER", "IHHWVCSWFRCP"),
        ("atbash", None, "WIZARD", "DRAZIW"),
        ("substitution", "QWERTYUIOPASDFGHJKLZXCVBNM", "HELLO", "ITSSG"),
        ("enigma", None, "AAAAAAAAAAAAAAAAAAAAAAAAA", "BDZGOWCXLTKSBTMCDLPBMUQOF"),
        ("enigma", "start=ADU", "AAAAA", "EQIBM"),
        ("enigma", "rings=BBB", "AAAAA", "EWTYX"),
        ("enigma", BARBAROSSA_KEY, BARBAROSSA_PLAINTEXT, BARBAROSSA_CIPHERTEXT),
    ],
)
def test_published_vectors(name, key, plaintext, ciphertext):
    cipher = get_cipher(name, key=key)
    assert cipher.encrypt(plaintext) == ciphertext
    assert cipher.decrypt(ciphertext) == plaintext


def test_enigma_double_step():
    enigma = get_cipher("enigma", key="start=ADU")
    positions, seen = [0, 3, 20], []
    for _ in range(4):
        positions = enigma.step(positions)
        seen.append("".join(chr(65 + p) for p in positions))
    assert seen == ["ADV", "AEW", "BFX", "BFY"]


def test_enigma_wiring_tables_are_permutations_and_reflectors_involutions():
    for wiring, _ in ROTORS.values():
        assert sorted(wiring) == list(string.ascii_uppercase)
    for wiring in REFLECTORS.values():
        assert all(
            wiring[ord(wiring[i]) - 65] == chr(65 + i) and wiring[i] != chr(65 + i)
            for i in range(26)
        )


def test_non_letters_keep_their_places_and_do_not_advance_the_key():
    vigenere = get_cipher("vigenere", key="LEMON")
    assert vigenere.encrypt("Attack at dawn!") == "Lxfopv ef rnhr!"
    enigma = get_cipher("enigma")
    assert enigma.encrypt("AAA AA") == "BDZ GO"


@pytest.mark.parametrize(
    "name, key, message",
    [
        ("affine", "13,2", "shares a factor with the alphabet size 26"),
        ("affine", "x,y", "affine key must be 2 integers"),
        ("affine", None, "affine needs `key`"),
        ("substitution", "ABC", "must use each of the 26 alphabet symbols once"),
        ("substitution", "AACDEFGHIJKLMNOPQRSTUVWXYZ", "repeated A"),
        ("vigenere", None, "needs a key word"),
        ("vigenere", "LEM0N", "'0' is not in the alphabet"),
        ("atbash", "X", "atbash takes no key"),
        ("enigma", "rotors=I,II", "three of"),
        ("enigma", "rotors=I,I,II", "three different rotors"),
        ("enigma", "reflector=A", "reflector must be B or C"),
        ("enigma", "rings=AA", "three letters"),
        ("enigma", "plugboard=AB,BC", "uses a letter twice"),
        ("enigma", "colour=red", "not understood"),
    ],
)
def test_malformed_keys_say_what_is_wrong(name, key, message):
    with pytest.raises(UserError, match=message):
        get_cipher(name, key=key)


KEYS = {
    "caesar": st.integers(-100, 100),
    "rot13": st.none(),
    "atbash": st.none(),
    "affine": st.tuples(
        st.sampled_from([1, 3, 5, 7, 9, 11, 15, 17, 19, 21, 23, 25]), st.integers(0, 25)
    ).map(lambda ab: f"{ab[0]},{ab[1]}"),
    "substitution": st.permutations(string.ascii_uppercase).map("".join),
    "vigenere": st.text(string.ascii_uppercase, min_size=1, max_size=12),
    "beaufort": st.text(string.ascii_uppercase, min_size=1, max_size=12),
    "autokey": st.text(string.ascii_uppercase, min_size=1, max_size=12),
    "enigma": st.builds(
        lambda rotors, refl, rings, start: (
            f"rotors={','.join(rotors)} reflector={refl} "
            f"rings={rings} start={start} plugboard=AV,BS,CG"
        ),
        st.permutations(list(ROTORS)).map(lambda r: r[:3]),
        st.sampled_from("BC"),
        st.text(string.ascii_uppercase, min_size=3, max_size=3),
        st.text(string.ascii_uppercase, min_size=3, max_size=3),
    ),
}


def test_every_registered_family_has_a_round_trip_property():
    assert set(KEYS) == set(cipher_names())


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_round_trip_for_every_family(data):
    name = data.draw(st.sampled_from(sorted(KEYS)))
    # caesar's default alphabet has a caseless '-', so case is checked over A-Z
    alphabet = string.ascii_uppercase if name == "caesar" else None
    cipher = get_cipher(name, key=data.draw(KEYS[name]), alphabet=alphabet)
    text = data.draw(st.text(string.ascii_letters + " .,'-\n", max_size=120))
    ciphertext = cipher.encrypt(text)
    assert len(ciphertext) == len(text)
    assert [c.isupper() for c in ciphertext] == [c.isupper() for c in text]
    assert cipher.decrypt(ciphertext) == text


@settings(max_examples=50, deadline=None)
@given(key=KEYS["enigma"], text=st.text(string.ascii_uppercase, min_size=1, max_size=200))
def test_enigma_never_encrypts_a_letter_to_itself(key, text):
    ciphertext = get_cipher("enigma", key=key).encrypt(text)
    assert all(p != c for p, c in zip(text, ciphertext, strict=True))


@pytest.mark.parametrize("key", [None, "rotors=IV,II,V reflector=C rings=BCD start=QAV"])
def test_enigma_twins_agree_until_the_left_rotor_first_steps(key):
    # The premise of the Enigma length bound: a machine with another left wiring (and the
    # matching reflector) is indistinguishable until the left rotor moves, then differs.
    bound = load_benchmark("decipher_families/enigma_bound.py")
    real = get_cipher("enigma", key=key)
    other = bound.twin(real, list(range(26)))
    assert sorted(other.reflector) == list(range(26))
    assert all(other.reflector[other.reflector[i]] == i != other.reflector[i] for i in range(26))
    positions, left_moves = [ord(c) - 65 for c in real.settings.start], None
    for press in range(1, 2000):
        positions = real.step(positions)
        if positions[0] != ord(real.settings.start[0]) - 65:
            left_moves = press
            break
    assert left_moves > 50  # a long stretch where the twins must agree
    text = "".join(chr(65 + i % 26) for i in range(left_moves + 60))
    mine, theirs = real.encrypt(text), other.encrypt(text)
    assert mine[: left_moves - 1] == theirs[: left_moves - 1]
    after = zip(mine[left_moves - 1 :], theirs[left_moves - 1 :], strict=True)
    assert sum(a != b for a, b in after) > 30
