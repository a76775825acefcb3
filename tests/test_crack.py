"""rnnlab crack: the n-gram scorer, each classical attack, identification and the CLI."""

from __future__ import annotations

import json
import string

import numpy as np
import pytest

from rnnlab.ciphers import get_cipher
from rnnlab.crack import crack
from rnnlab.crack.identify import (
    CLEAR_MARGIN,
    NO_ATTACK,
    Identification,
    clear_winner,
    identify,
)
from rnnlab.crack.letters import Letters, index_of_coincidence, to_ids
from rnnlab.crack.neural import majority_table
from rnnlab.crack.ngrams import load_model
from rnnlab.crack.periodic import candidate_periods
from rnnlab.crack.result import AttackResult, Deadline
from rnnlab.crack.substitution import attack_substitution
from rnnlab.errors import UserError

from .helpers import assert_one_line_error, run_cli

A = string.ascii_uppercase

# Written for these tests (not from the corpus the scorer is built from), so the attacks
# are scored on text they have never seen.
PROSE = (
    "The keeper of the lighthouse wrote a letter every evening to his sister in the city. "
    "He told her about the weather, the passing ships and the birds that rested on the "
    "rail before flying on across the grey water. She answered once a month, and her "
    "letters were full of questions about whether he was lonely, whether the stove still "
    "smoked, and when he meant to come home. He never said that he was lonely. He wrote "
    "instead that the lamp had to be trimmed at dusk, that the fog horn needed oil, and "
    "that a gull with one foot had learned to knock on the window for bread. In the spring "
    "a young clerk from the harbour office came to inspect the tower and stayed for supper."
)


@pytest.fixture(scope="module")
def model():
    return load_model()


def encrypt(name: str, key, text: str = PROSE) -> str:
    return get_cipher(name, key=key, alphabet=A).encrypt(text)


def letter_accuracy(found: str, truth: str) -> float:
    a, b = to_ids(found), to_ids(truth)
    return float((a == b).mean())


# -- the scorer ------------------------------------------------------------------------


def test_quadgram_table_is_a_probability_distribution_for_every_context(model):
    totals = np.exp(model.quad.astype(np.float64)).reshape(-1, 26).sum(axis=1)
    assert np.allclose(totals, 1.0, atol=1e-4)


def test_english_scores_far_above_shuffled_and_enciphered_english(model):
    ids = to_ids(PROSE)
    english = model.per_letter(ids)
    assert english > -2.6
    assert model.per_letter(np.random.default_rng(0).permutation(ids)) < english - 2
    assert model.per_letter((ids + 3) % 26) < english - 3


def test_a_damaged_cached_table_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path))
    first = load_model()
    (cached,) = (tmp_path / "ngrams").iterdir()
    cached.write_bytes(b"not a safetensors file")
    assert np.array_equal(load_model().quad, first.quad)


def test_index_of_coincidence_separates_monoalphabetic_from_polyalphabetic():
    assert index_of_coincidence(to_ids(encrypt("substitution", A[::-1]))) > 0.055
    assert index_of_coincidence(to_ids(encrypt("vigenere", "LIGHTHOUSE"))) < 0.048


# -- the attacks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("caesar", 7),
        ("atbash", None),
        ("affine", "5,8"),
        ("vigenere", "LEMON"),
        ("vigenere", "QUARTERMASTER"),
        ("beaufort", "FORTIFY"),
        ("autokey", "QUEENLY"),
    ],
)
def test_attack_recovers_key_and_plaintext_exactly(name, key):
    result = crack(encrypt(name, key), cipher=name)
    assert result.plaintext == PROSE
    assert result.key == get_cipher(name, key=key, alphabet=A).key


def test_substitution_hill_climbing_recovers_nearly_every_letter():
    key = "".join(np.random.default_rng(3).permutation(list(A)))
    result = crack(encrypt("substitution", key), cipher="substitution")
    assert letter_accuracy(result.plaintext, PROSE) >= 0.95


def test_rot13_needs_no_search():
    assert crack(encrypt("rot13", None), cipher="rot13").plaintext == PROSE


def test_non_letters_and_case_keep_their_places():
    text = "Meet me at 10:30, by the OLD bridge -- come alone! It is a matter of some urgency."
    result = crack(encrypt("caesar", 11, text), cipher="caesar")
    assert result.plaintext == text


def test_period_estimate_puts_the_key_length_first():
    assert candidate_periods(to_ids(encrypt("vigenere", "HARBOUR")))[0] == 7


def test_an_expired_time_limit_stops_after_one_climb(model):
    ids = to_ids(encrypt("substitution", A[::-1]))
    result = attack_substitution(ids, model, Deadline(0.0))
    assert result.details["restarts"] == 1


def test_majority_table_is_a_permutation_and_undoes_the_cipher():
    cipher_ids = to_ids(encrypt("substitution", A[::-1]))
    plain_ids = to_ids(PROSE)
    table = majority_table(cipher_ids, plain_ids)
    assert sorted(table) == list(range(26))
    assert np.array_equal(table[cipher_ids], plain_ids)


def test_majority_table_outvotes_a_noisy_reading():
    cipher_ids = to_ids(encrypt("substitution", A[::-1]))
    plain_ids = to_ids(PROSE).copy()
    noisy = plain_ids.copy()
    noisy[::9] = (noisy[::9] + 1) % 26  # one letter in nine misread
    table = majority_table(cipher_ids, noisy)
    seen = np.unique(cipher_ids)
    assert np.mean(table[seen] == (25 - seen)) >= 0.9  # atbash-reversed key


# -- identification ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("caesar", 4),
        ("affine", "7,3"),
        ("substitution", "QWERTYUIOPASDFGHJKLZXCVBNM"),
        ("vigenere", "LIGHT"),
        ("beaufort", "HARBOUR"),
        ("autokey", "GULL"),
        ("enigma", "rotors=I,II,III reflector=B rings=AAA start=QEV"),
    ],
)
def test_identification_names_the_family(model, name, key):
    found = identify(to_ids(encrypt(name, key)), model, Deadline(30))
    assert found.family == name
    assert found.confidence > 0.5


def test_readings_that_agree_do_not_compete_but_a_different_one_must_trail_clearly():
    caesar, other = np.arange(8), np.arange(8)[::-1]

    def found(affine_plain: np.ndarray, gap: float) -> Identification:
        results = {
            "caesar": AttackResult("caesar", 3, caesar, 0.0, 0.0),
            "affine": AttackResult("affine", "1,3", affine_plain, 0.0, 0.0),
        }
        evidence = {"caesar": -10.0, "affine": -10.0 - gap, NO_ATTACK: -50.0}
        return Identification("caesar", 0.9, evidence, results)

    assert clear_winner(found(caesar, 2.0))  # affine's A = 1 is the same reading
    assert not clear_winner(found(other, CLEAR_MARGIN - 0.5))
    assert clear_winner(found(other, CLEAR_MARGIN + 0.5))


# -- the command line ------------------------------------------------------------------


def test_cli_json_has_the_documented_fields(capsys):
    code, out, _ = run_cli(["crack", "--json", encrypt("vigenere", "LEMON")], capsys)
    assert code == 0
    result = json.loads(out)
    assert {"cipher", "key", "plaintext", "score"} <= set(result)
    assert (result["cipher"], result["key"], result["plaintext"]) == ("vigenere", "LEMON", PROSE)


def test_cli_prints_the_plaintext_and_describes_the_guess(capsys):
    code, out, err = run_cli(["crack", "--cipher", "caesar", encrypt("caesar", 20)], capsys)
    assert (code, out) == (0, PROSE + "\n")
    assert "key: 20" in err


def test_cli_cracks_a_short_caesar_text_without_being_told_the_cipher(capsys):
    code, out, err = run_cli(["crack", "Wkh txlfn eurzq ira mxpsv ryhu wkh odcb grj"], capsys)
    assert (code, out) == (0, "The quick brown fox jumps over the lazy dog\n")
    assert "cipher: caesar (identified" in err and "key: 3" in err


@pytest.mark.parametrize(
    ("name", "key"), [("atbash", None), ("affine", "5,8"), ("caesar", 11), ("rot13", None)]
)
def test_a_short_text_under_a_cheap_cipher_is_identified_and_read(name, key):
    text = "Meet me by the old bridge at ten."  # 25 letters
    result = crack(encrypt(name, key, text))
    assert result.plaintext == text
    assert result.cipher == ("caesar" if name == "rot13" else name)


def test_a_short_text_no_cheap_cipher_fits_is_refused_naming_the_families_left(capsys):
    text = encrypt("vigenere", "LIGHTHOUSE", "Meet me by the old bridge at ten.")
    code, _, err = run_cli(["crack", text], capsys)
    assert_one_line_error(code, err, "only 25 letters and no cipher fits clearly")
    # Trying every key rules the exhaustive families out; a short key-word search does not.
    possible = err.split("still possible: ")[1].split(";")[0].split(", ")
    assert possible == ["vigenere", "beaufort", "autokey", "substitution", "enigma"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["   "], "empty input"),
        (["12:30 -- 4/5!"], "no letters"),
        (["--cipher", "playfair", "ABCDEFGHIJ"], "unknown cipher 'playfair'"),
        (["--cipher", "enigma", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"], "no classical attack for enigma"),
        (["QEB NRFZH"], "too short to identify"),
        (
            ["QEB NRFZH YOLTK C"],
            "only 14 letters: too short to identify the cipher (needs at least 15",
        ),
        (
            [
                encrypt(
                    "vigenere",
                    "LEMON",
                    "it was the best of times, it was the worst of times, it was",
                )
            ],
            "too short to decide",
        ),
        (["--cipher", "vigenere", "QEB NRFZH YOLTK"], "too short to break vigenere"),
        (["--time-limit", "-1", "ABC"], "--time-limit"),
        (["--hybrid", "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOP"], "--hybrid needs --model"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(capsys, args, fragment):
    code, _, err = run_cli(["crack", *args], capsys)
    assert_one_line_error(code, err, fragment)


def test_letters_restore_round_trip():
    text = "Ab, c-D!"
    letters = Letters.of(text)
    assert letters.restore(letters.ids) == text


# -- neural and hybrid -----------------------------------------------------------------


def _train_fixed_key_model(out, cipher: str, key) -> None:
    """A decipher model for one fixed key: a stand-in for an unknown-key model that has
    learned this ciphertext's key, enough to exercise the --model and --hybrid paths."""
    from rnnlab.decipher import DecipherDataConfig, DecipherRun, train
    from rnnlab.models.tagger import TaggerConfig
    from rnnlab.train import TrainConfig

    run = DecipherRun(
        data=DecipherDataConfig(cipher=cipher, key=key, alphabet=A, seq_len=16, val_examples=64),
        model=TaggerConfig(embedding=16, hidden=32),
        train=TrainConfig(steps=300, batch_size=32, lr=1e-2, eval_every=300, device="cpu"),
    )
    train(run, out)


def test_model_reads_the_ciphertext_through_crack(tmp_path):
    _train_fixed_key_model(tmp_path / "m", "caesar", 3)
    result = crack(encrypt("caesar", 3), model_dir=tmp_path / "m")
    assert (result.method, result.cipher) == ("neural", "caesar")
    assert letter_accuracy(result.plaintext, PROSE) >= 0.99
    assert result.plaintext[:3] == "The"  # case and spacing restored around the letters
    # --cipher is honoured: the model's own family is accepted, any other refused
    assert crack(encrypt("caesar", 3), cipher="caesar", model_dir=tmp_path / "m").cipher == "caesar"
    with pytest.raises(UserError, match="does not match the model"):
        crack(encrypt("caesar", 3), cipher="vigenere", model_dir=tmp_path / "m")


def test_hybrid_climbs_from_the_models_reading_to_the_key(tmp_path):
    key = "QWERTYUIOPASDFGHJKLZXCVBNM"
    _train_fixed_key_model(tmp_path / "m", "substitution", key)
    result = crack(encrypt("substitution", key), model_dir=tmp_path / "m", hybrid=True)
    assert result.method == "hybrid"
    # The search started from the model's reading: right for every letter the text uses.
    used = sorted(set(to_ids(PROSE).tolist()))
    assert [result.details["network_key"][i] for i in used] == [key[i] for i in used]
    assert result.plaintext == PROSE


def test_crack_help_names_every_family_with_a_classical_attack(capsys):
    """The --cipher help lists the families by hand (so that `--help` loads no numpy);
    this keeps the list equal to the attack registry."""
    from rnnlab.crack.attacks import attacked_families

    code, out, _ = run_cli(["crack", "--help"], capsys)
    listed = " ".join(out.split()).split("if known: ")[1].split(" (default")[0]
    assert code == 0 and set(listed.split(", ")) == set(attacked_families())
