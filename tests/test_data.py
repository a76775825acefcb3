import numpy as np
import pytest

from rnnlab.ciphers import get_cipher
from rnnlab.data.parallel import CipherStream, PairsData, read_pairs
from rnnlab.errors import UserError
from rnnlab.io import read_text


def stream(**kw) -> CipherStream:
    args = dict(cipher=get_cipher("caesar"), seq_len=16, batch_size=8, seed=3, val_examples=20)
    return CipherStream(**(args | kw))


def test_stream_batches_are_ciphertext_in_plaintext_out():
    batch = stream().train_batch(1)
    cipher = get_cipher("caesar")
    np.testing.assert_array_equal(batch.inputs.numpy(), cipher.encrypt_ids(batch.targets.numpy()))
    assert batch.inputs.shape == (8, 16)


def test_stream_is_a_function_of_seed_and_step():
    a, b = stream(), stream()
    assert (a.train_batch(7).inputs == b.train_batch(7).inputs).all()
    assert not (a.train_batch(7).inputs == a.train_batch(8).inputs).all()
    assert not (a.train_batch(7).inputs == stream(seed=4).train_batch(7).inputs).all()


def test_training_never_sees_a_held_out_message():
    # 3 symbols, length 6: 729 messages, 7 held out; collisions are frequent without the
    # filter (about 1 in 100 rows), so 200 batches of 64 would hit many.
    s = stream(
        cipher=get_cipher("caesar", key=1, alphabet="ABC"), seq_len=6, batch_size=64, val_examples=7
    )
    held = {tuple(r) for r in s.val.targets.tolist()}
    for step in range(1, 201):
        assert not held & {tuple(r) for r in s.train_batch(step).targets.tolist()}


def test_too_small_message_space_is_refused():
    with pytest.raises(UserError, match="too few"):
        stream(cipher=get_cipher("caesar", key=1, alphabet="AB"), seq_len=3)


def write(tmp_path, data: bytes, name="pairs.tsv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_pairs_file_parses_and_skips_blank_lines(tmp_path):
    path = write(tmp_path, b"HELLO\tURYYB\n\nABC\tNOP\n")
    pairs = read_pairs(path)
    assert [(p.plaintext, p.ciphertext) for p in pairs] == [("HELLO", "URYYB"), ("ABC", "NOP")]


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "file is empty"),
        (b"  \n\n", "file is empty"),
        (b"AB\tCD\n\x00\x01\x02binary", "binary"),
        (b"AB\tCD\nA\xffB\tCDE\n", r"byte offset 7 \(line 2\)"),
        (b"AB\tCD\nABC\tCD\n", r":2: plaintext has 3 characters but ciphertext has 2"),
        (b"AB\tCD\nABCD\n", r":2: expected 'plaintext<TAB>ciphertext'"),
        (b"AB\tCD\n\tCD\n", r":2: empty plaintext"),
        (b"A\tB\tC\n", r":1: expected"),
    ],
)
def test_bad_pairs_files_name_the_problem(tmp_path, data, message):
    with pytest.raises(UserError, match=message):
        read_pairs(write(tmp_path, data))


def test_missing_file_and_directory_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="no such file"):
        read_text(tmp_path / "absent.txt")
    with pytest.raises(UserError, match="is a directory"):
        read_text(tmp_path)


def test_pairs_split_holds_out_ciphertexts_not_in_training(tmp_path):
    cipher = get_cipher("caesar", key=3, alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(100):
        plain = "".join(rng.choice(list("ABCDEFGH"), size=rng.integers(3, 9)))
        lines.append(f"{plain}\t{cipher.encrypt(plain)}")
    lines += lines[:30]  # duplicates must not leak across the split
    data = PairsData(write(tmp_path, "\n".join(lines).encode()), batch_size=4, seed=0)
    held = {p.ciphertext for p in data.val_pairs}
    assert held and not held & {p.ciphertext for p in data.train_pairs}


def test_pairs_batches_pad_variable_lengths(tmp_path):
    path = write(tmp_path, b"AB\tBC\nABCD\tBCDE\nA\tB\nABC\tBCD\n")
    data = PairsData(path, batch_size=6, seed=1, val_frac=0.25)
    batch = data.train_batch(1)
    assert batch.lengths is not None
    for row, n in enumerate(batch.lengths.tolist()):
        assert (batch.targets[row, n:] == -100).all()
        assert (batch.targets[row, :n] >= 0).all()


def test_english_plaintext_is_corpus_text_reduced_to_the_alphabet_and_split_by_position():
    from rnnlab.data.plaintext import HELD_OUT, TRAIN, plaintext_source

    cipher = get_cipher("vigenere", key="LEMON")
    source = plaintext_source("english", cipher.alphabet)
    assert "".join(cipher.alphabet.chars[i] for i in source.regions[TRAIN][:12]) == (
        "FIRSTCITIZEN"  # "First Citizen:" with case folded and the rest dropped
    )
    s = CipherStream(cipher, seq_len=40, batch_size=4, seed=0, val_examples=10, plaintext=source)
    train_text = source.regions[TRAIN].tobytes()
    for row in s.val.targets.numpy():  # held-out messages come from the last 10%
        assert row.tobytes() in source.regions[HELD_OUT].tobytes()
    batch = s.train_batch(1)
    np.testing.assert_array_equal(batch.inputs.numpy(), cipher.encrypt_ids(batch.targets.numpy()))
    assert batch.targets.numpy()[0].tobytes() in train_text


def test_plaintext_file_that_does_not_exist_is_a_user_error():
    from rnnlab.data.plaintext import plaintext_source

    with pytest.raises(UserError, match="use random, english, or an existing text file"):
        plaintext_source("no/such/file.txt", get_cipher("caesar").alphabet)
