import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.ciphers import LATIN, SEED_ALPHABET, Alphabet, cipher_names, get_cipher
from rnnlab.errors import UserError


def test_seed_vector_shift_13_on_27_symbols():
    cipher = get_cipher("caesar", key=13, alphabet=SEED_ALPHABET)
    assert cipher.encrypt("THIS-IS-A-SECRET") == "FUVEMVEMNMERPDRF"
    assert cipher.encrypt(SEED_ALPHABET) == "NOPQRSTUVWXYZ-ABCDEFGHIJKLM"
    assert cipher.decrypt("FUVEMVEMNMERPDRF") == "THIS-IS-A-SECRET"


def test_caesar_is_the_classical_cipher_unless_told_otherwise():
    assert get_cipher("caesar").spec() == {"name": "caesar", "key": 13, "alphabet": LATIN}
    assert get_cipher("caesar", key=3).encrypt("Hello, World") == "Khoor, Zruog"


def test_the_seed_alphabet_is_decipher_trains_default_for_caesar():
    from rnnlab import decipher

    run = decipher.build_run({})
    assert (run.data.cipher, run.data.alphabet) == ("caesar", SEED_ALPHABET)
    other = decipher.build_run({"cipher": "vigenere", "key": "LEMON"})
    assert other.data.alphabet is None  # the family's own, as before


def test_seed_shift_is_not_its_own_inverse():
    cipher = get_cipher("caesar", key=13, alphabet=SEED_ALPHABET)
    assert cipher.encrypt(cipher.encrypt("THIS-IS-A-SECRET")) != "THIS-IS-A-SECRET"


def test_rot13_vectors_and_self_inverse():
    rot13 = get_cipher("rot13")
    assert rot13.encrypt("HELLO") == "URYYB"
    assert rot13.encrypt("URYYB") == "HELLO"
    assert rot13.encrypt("Why did the chicken cross the road?") == (
        "Jul qvq gur puvpxra pebff gur ebnq?"
    )


def test_classic_caesar_shift_3():
    cipher = get_cipher("caesar", key=3, alphabet=string.ascii_uppercase)
    assert cipher.encrypt("THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG") == (
        "WKH TXLFN EURZQ IRA MXPSV RYHU WKH ODCB GRJ"
    )


def test_characters_outside_alphabet_pass_through_and_case_is_kept():
    cipher = get_cipher("caesar", key=1, alphabet=string.ascii_uppercase)
    assert cipher.encrypt("Hello, World! 123") == "Ifmmp, Xpsme! 123"


def test_negative_and_large_keys_reduce_modulo_alphabet():
    a = get_cipher("caesar", key=-1, alphabet="ABC")
    b = get_cipher("caesar", key=2, alphabet="ABC")
    c = get_cipher("caesar", key=3 * 10**9 + 2, alphabet="ABC")
    assert a.encrypt("ABC") == b.encrypt("ABC") == c.encrypt("ABC") == "CAB"


def test_encrypt_ids_matches_string_path():
    cipher = get_cipher("caesar", key=5, alphabet=SEED_ALPHABET)
    ids = np.random.default_rng(0).integers(0, 27, size=(4, 20))
    text = ["".join(SEED_ALPHABET[i] for i in row) for row in ids]
    fast = cipher.encrypt_ids(ids)
    assert ["".join(SEED_ALPHABET[i] for i in row) for row in fast] == [
        cipher.encrypt(t) for t in text
    ]


@pytest.mark.parametrize(
    "name, key, alphabet, message",
    [
        ("nope", None, None, "unknown cipher 'nope'"),
        ("caesar", "abc", None, "caesar key must be an integer"),
        ("caesar", 1, "AAB", "repeated symbols"),
        ("caesar", 1, "A", "at least 2 symbols"),
        ("rot13", 5, None, "rot13 takes no key"),
        ("rot13", None, "ABC", "fixed to the 26 letters"),
    ],
)
def test_bad_cipher_arguments_are_user_errors(name, key, alphabet, message):
    with pytest.raises(UserError, match=message):
        get_cipher(name, key=key, alphabet=alphabet)


def test_registry_lists_both_shift_ciphers():
    assert {"caesar", "rot13"} <= set(cipher_names())


alphabets = (
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=2, max_size=40
    )
    .map(lambda s: "".join(dict.fromkeys(s)))
    .filter(lambda s: len(s) >= 2)
)


@settings(max_examples=200, deadline=None)
@given(alphabet=alphabets, key=st.integers(-(10**6), 10**6), data=st.data())
def test_caesar_round_trip_on_random_text(alphabet, key, data):
    cipher = get_cipher("caesar", key=key, alphabet=alphabet)
    text = data.draw(st.text(alphabet=st.sampled_from(alphabet + " ,.!?xyzXYZ"), max_size=80))
    ciphertext = cipher.encrypt(text)
    assert len(ciphertext) == len(text)
    assert cipher.decrypt(ciphertext) == text


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=100))
def test_rot13_is_an_involution_on_any_text(text):
    rot13 = get_cipher("rot13")
    assert rot13.encrypt(rot13.encrypt(text)) == text


def test_alphabet_lookup_swaps_case_when_every_symbol_has_one():
    alphabet = Alphabet("ABc")
    assert alphabet.lookup("a") == (0, True)
    assert alphabet.lookup("c") == (2, False)
    assert alphabet.lookup("C") == (2, True)
    assert alphabet.lookup("?") is None


def test_alphabet_with_a_caseless_symbol_does_not_fold_case():
    # 'n' + 13 on the seed alphabet would land on '-', which has no lowercase to return.
    cipher = get_cipher("caesar", key=13, alphabet=SEED_ALPHABET)
    assert cipher.encrypt("hello") == "hello"
    assert Alphabet("AB-").lookup("a") is None
