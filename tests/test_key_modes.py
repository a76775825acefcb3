"""Key modes: random keys per family, held-out keys, the keyed and feedback models, and the
`decipher run --key` / eval plumbing around them."""

import json

import numpy as np
import pytest
import torch

from rnnlab import decipher
from rnnlab.ciphers import get_cipher
from rnnlab.ciphers.keygen import KeySpace, key_symbols, parse_key_length
from rnnlab.data.keyed import KeyedStream
from rnnlab.data.plaintext import plaintext_source
from rnnlab.decipher import DecipherDataConfig, DecipherRun
from rnnlab.errors import UserError
from rnnlab.models.feedback import FeedbackDecipherer, FeedbackModelConfig
from rnnlab.models.keyed import KeyedModelConfig
from rnnlab.models.tagger import TaggerConfig
from rnnlab.train import TrainConfig

from .helpers import assert_one_line_error, run_cli, train_shared

LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def keyed_stream(family="vigenere", lengths=(3, 12), alphabet=LATIN, **kw) -> KeyedStream:
    space = KeySpace(family, alphabet, lengths)
    from rnnlab.ciphers import Alphabet

    args = dict(seq_len=24, batch_size=16, seed=5, val_examples=40)
    return KeyedStream(space, plaintext_source("random", Alphabet(alphabet)), **(args | kw))


@pytest.mark.parametrize(
    "family, check",
    [
        ("caesar", lambda c: 0 <= c.shift < 26),
        ("affine", lambda c: np.gcd(c.a, 26) == 1),
        ("substitution", lambda c: sorted(c.table.tolist()) == list(range(26))),
        ("vigenere", lambda c: 3 <= len(c.shifts) <= 12),
        ("beaufort", lambda c: 3 <= len(c.shifts) <= 12),
        ("autokey", lambda c: 3 <= len(c.shifts) <= 12),
    ],
)
def test_each_family_draws_valid_keys_that_vary(family, check):
    space = KeySpace(family, LATIN, (3, 12))
    rng = np.random.default_rng(0)
    ciphers = [space.draw_cipher(rng, held_out=False) for _ in range(50)]
    assert all(check(c) for c in ciphers)
    assert len({str(c.key) for c in ciphers}) > 10
    for c in ciphers[:5]:  # the key, read back as symbols, rebuilds the same cipher
        assert len(key_symbols(c)) <= space.max_symbols


def test_word_keys_cover_the_whole_length_range():
    space = KeySpace("vigenere", LATIN, (3, 8))
    rng = np.random.default_rng(1)
    assert {len(space.draw(rng)) for _ in range(400)} == set(range(3, 9))


def test_key_length_parses_single_and_range():
    assert parse_key_length("5") == (5, 5)
    assert parse_key_length("3-12") == (3, 12)
    assert parse_key_length(None) == (3, 12)
    with pytest.raises(UserError):
        parse_key_length("0-3")


def test_held_out_keys_are_about_a_tenth_and_a_function_of_the_key():
    space = KeySpace("vigenere", LATIN, (3, 12))
    rng = np.random.default_rng(2)
    keys = [space.draw(rng) for _ in range(4000)]
    share = np.mean([space.is_held_out(k) for k in keys])
    assert 0.07 < share < 0.13
    assert [space.is_held_out(k) for k in keys[:50]] == [space.is_held_out(k) for k in keys[:50]]


def test_small_key_spaces_hold_nothing_out():
    assert not KeySpace("caesar", LATIN).holds_out
    assert not KeySpace("affine", LATIN).holds_out
    assert KeySpace("substitution", LATIN).holds_out


def keys_of(batch) -> set[str]:
    return {
        "".join(LATIN[i] for i in row[:n])
        for row, n in zip(batch.keys.tolist(), batch.key_lengths.tolist(), strict=True)
    }


def test_training_batches_never_use_a_held_out_key_and_validation_only_those():
    s = keyed_stream()
    assert all(s.space.is_held_out(k) for k in keys_of(s.val))
    for step in range(1, 101):
        assert not any(s.space.is_held_out(k) for k in keys_of(s.train_batch(step)))


def test_keyed_batches_are_each_row_encrypted_under_its_own_key():
    batch = keyed_stream(family="autokey").train_batch(3)
    for row in range(len(batch.inputs)):
        n = int(batch.key_lengths[row])
        key = "".join(LATIN[i] for i in batch.keys[row, :n].tolist())
        cipher = get_cipher("autokey", key=key)
        expected = cipher.encrypt_ids(batch.targets[row : row + 1].numpy())
        np.testing.assert_array_equal(batch.inputs[row].numpy(), expected[0])


def test_keyed_stream_is_a_function_of_seed_and_step():
    a, b = keyed_stream(), keyed_stream()
    assert torch.equal(a.train_batch(4).keys, b.train_batch(4).keys)
    assert torch.equal(a.train_batch(4).inputs, b.train_batch(4).inputs)
    assert not torch.equal(a.train_batch(4).inputs, a.train_batch(5).inputs)


def test_english_plaintext_and_unknown_keys_build_a_stream():
    data = DecipherDataConfig(
        cipher="caesar", key_mode="unknown", plaintext="english", seq_len=20, val_examples=8
    )
    source = decipher.build_source(data, batch_size=4, seed=0)
    batch = source.train_batch(1)
    text = "".join(LATIN[i] for i in batch.targets[0].tolist())
    assert len(text) == 20 and text.isalpha()


def keyed_run(tmp_steps: int, hidden: int = 64) -> DecipherRun:
    return DecipherRun(
        data=DecipherDataConfig(
            cipher="vigenere", key_mode="given", key_length="2-3", seq_len=12, val_examples=100
        ),
        model=KeyedModelConfig(embedding=16, hidden=hidden, attention=16),
        train=TrainConfig(
            steps=tmp_steps, batch_size=32, eval_every=tmp_steps, lr=1e-2, device="cpu"
        ),
    )


@pytest.fixture(scope="module")
def keyed_model(tmp_path_factory):
    return train_shared(tmp_path_factory, "keyed", keyed_run(150))


def test_given_mode_model_learns_held_out_keys_well_above_chance(keyed_model):
    out, result = keyed_model
    assert result["accuracy"] > 0.5  # chance is 1/26
    config = json.loads((out / "config.json").read_text())
    assert config["architecture"] == "keyed"
    assert config["data"]["key_mode"] == "given" and config["data"]["held_out_keys"] is True
    assert config["model"]["max_key_len"] == 3


def test_given_mode_model_decrypts_under_the_key_it_is_given(keyed_model):
    loaded = decipher.load(keyed_model[0], device="cpu")
    plain = "ATTACKATDAWNATTACKATDAWN"
    right = decipher.decrypt(loaded, get_cipher("vigenere", key="KEY").encrypt(plain), key="KEY")
    wrong = decipher.decrypt(loaded, get_cipher("vigenere", key="KEY").encrypt(plain), key="KEZ")
    hits = sum(a == b for a, b in zip(right, plain, strict=True))
    assert hits > sum(a == b for a, b in zip(wrong, plain, strict=True))
    assert hits > len(plain) // 2


def test_decipher_run_takes_the_key_between_dir_and_text(keyed_model, capsys):
    out = str(keyed_model[0])
    text = get_cipher("vigenere", key="KEY").encrypt("ATTACKATDAWN")  # KXRKGIKXBKAL
    code, stdout, _ = run_cli(["decipher", "run", out, "--key", "KEY", text], capsys)
    assert (code, stdout) == (0, "ATTACKATDAWN\n")
    # the key is read, not ignored: the same text under another key reads otherwise
    code, stdout, _ = run_cli(["decipher", "run", out, "--key", "QRS", text], capsys)
    assert code == 0 and stdout.strip() != "ATTACKATDAWN"
    assert stdout.strip() == decipher.decrypt(decipher.load(out, device="cpu"), text, key="QRS")


def test_decipher_run_reads_stdin_when_dash_follows_the_key(keyed_model):
    from .helpers import run_cli_process

    args = ["decipher", "run", str(keyed_model[0]), "--key", "KEY", "-"]
    proc = run_cli_process(args, stdin=b"KXRKGIKXBKAL\nKXR\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().splitlines() == ["ATTACKATDAWN", "ATT"]


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ([], "pass --key"),
        (["--key", "K3Y"], "'3' is not in the alphabet"),
        (["--key", "ABCDEFG"], "reads at most 3"),
    ],
)
def test_missing_or_bad_key_exits_2(keyed_model, capsys, extra, fragment):
    code, _, err = run_cli(["decipher", "run", str(keyed_model[0]), *extra, "ABC"], capsys)
    assert_one_line_error(code, err, fragment)


def test_a_key_for_a_fixed_key_model_exits_2(tmp_path, capsys):
    from .helpers import tiny_run

    decipher.train(tiny_run(steps=2), tmp_path / "fixed")
    code, _, err = run_cli(["decipher", "run", str(tmp_path / "fixed"), "--key", "3", "AB"], capsys)
    assert_one_line_error(code, err, "takes no --key")


def test_eval_reports_held_out_keys_in_json(keyed_model, capsys):
    args = ["decipher", "eval", str(keyed_model[0]), "--lengths", "12,60"]
    code, stdout, _ = run_cli([*args, "--examples", "50", "--json"], capsys)
    result = json.loads(stdout)
    assert code == 0 and set(result["accuracy"]) == {"12", "60"}
    assert result["key_mode"] == "given" and result["held_out_keys"] is True


def test_old_config_without_key_fields_still_loads(tmp_path):
    from .helpers import tiny_run

    out = tmp_path / "old"
    decipher.train(tiny_run(steps=2), out)
    before = decipher.decrypt(decipher.load(out, device="cpu"), "ABCDEFGHIJ")
    config = json.loads((out / "config.json").read_text())
    del config["architecture"], config["data"]["key_length"]
    (out / "config.json").write_text(json.dumps(config))
    loaded = decipher.load(out, device="cpu")
    assert loaded.key_mode == "fixed" and decipher.decrypt(loaded, "ABCDEFGHIJ") == before
    assert len(before) == 10


def test_unknown_mode_model_decrypts_text_of_any_length_without_a_key(tmp_path):
    run = DecipherRun(
        data=DecipherDataConfig(cipher="caesar", key_mode="unknown", seq_len=12, val_examples=8),
        model=TaggerConfig(embedding=8, hidden=16, bidirectional=True),
        train=TrainConfig(steps=2, batch_size=4, eval_every=2, device="cpu"),
    )
    decipher.train(run, tmp_path / "u")
    loaded = decipher.load(tmp_path / "u", device="cpu")
    for text in ("A", "HELLOWORLD", "Q" * 5000):
        assert len(decipher.decrypt(loaded, text)) == len(text)


def test_feedback_teacher_forcing_matches_step_by_step_decoding():
    torch.manual_seed(0)
    model = FeedbackDecipherer(FeedbackModelConfig(5, 5, window=3, embedding=4, hidden=8)).eval()
    inputs = torch.randint(0, 5, (2, 9))
    predicted, _ = model.greedy(inputs)
    logits, _ = model(inputs, predicted)  # feeding back its own outputs reproduces decode
    assert torch.equal(logits.argmax(-1), predicted)


def test_feedback_decoding_in_chunks_equals_one_pass():
    torch.manual_seed(1)
    model = FeedbackDecipherer(FeedbackModelConfig(5, 5, window=4, embedding=4, hidden=8)).eval()
    inputs = torch.randint(0, 5, (3, 20))
    whole, _ = model.greedy(inputs)
    first, state = model.greedy(inputs[:, :7])
    rest, _ = model.greedy(inputs[:, 7:], state)
    assert torch.equal(torch.cat([first, rest], 1), whole)


def test_keyed_model_streaming_in_chunks_equals_one_pass(keyed_model):
    loaded = decipher.load(keyed_model[0], device="cpu")
    keys, key_lengths = torch.tensor([[3, 4, 5]]), torch.tensor([3])
    inputs = torch.randint(0, 26, (1, 50))
    whole = loaded.model.decode(inputs, keys, key_lengths, chunk=50).ids
    pieces = loaded.model.decode(inputs, keys, key_lengths, chunk=7).ids
    assert torch.equal(whole, pieces)


def test_feedback_model_trains_and_evaluates_greedily(tmp_path):
    run = DecipherRun(
        data=DecipherDataConfig(cipher="autokey", key="KEY", seq_len=12, val_examples=50),
        model=FeedbackModelConfig(window=4, embedding=8, hidden=32),
        train=TrainConfig(steps=100, batch_size=32, eval_every=100, lr=1e-2, device="cpu"),
    )
    _, result = decipher.train(run, tmp_path / "fb")
    assert result["accuracy"] > 0.2  # chance is 1/26
    loaded = decipher.load(tmp_path / "fb", device="cpu")
    assert json.loads((tmp_path / "fb" / "config.json").read_text())["architecture"] == "feedback"
    assert len(decipher.decrypt(loaded, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")) == 26


@pytest.mark.parametrize("feed_location", [False, True])
def test_keyed_model_streams_in_chunks_exactly_with_short_keys(feed_location):
    from rnnlab.models.keyed import KeyedDecipherer

    torch.manual_seed(2)
    config = KeyedModelConfig(6, 6, 6, 5, embedding=4, hidden=8, feed_location=feed_location)
    model = KeyedDecipherer(config).eval()
    keys, key_lengths = torch.tensor([[1, 2, 0], [3, 4, 5]]), torch.tensor([2, 3])
    inputs = torch.randint(0, 6, (2, 30))
    whole = model.decode(inputs, keys, key_lengths, chunk=30).logits
    pieces = model.decode(inputs, keys, key_lengths, chunk=4).logits
    torch.testing.assert_close(whole, pieces)


def test_bidirectional_model_reads_long_text_in_windows_ending_at_the_end(monkeypatch):
    from rnnlab.models import tagger
    from rnnlab.models.tagger import Tagger

    torch.manual_seed(3)
    model = Tagger(TaggerConfig(5, 5, hidden=8, bidirectional=True)).eval()
    monkeypatch.setattr(tagger, "BIDI_WINDOW", 10)
    inputs = torch.randint(0, 5, (2, 25))
    with torch.no_grad():
        got = model.decode(inputs).logits
        expected = torch.cat(
            [model(inputs[:, :10])[0], model(inputs[:, 10:20])[0], model(inputs[:, 15:])[0][:, 5:]],
            dim=1,
        )
    assert got.shape == (2, 25, 5)
    torch.testing.assert_close(got, expected)


def test_given_mode_resume_gives_the_same_parameters_as_one_run(tmp_path):
    def run(steps: int) -> DecipherRun:
        r = keyed_run(steps, hidden=16)
        r.model.feed_location = True
        r.train.eval_every = 2
        return r

    full, _ = decipher.train(run(6), tmp_path / "full")
    decipher.train(run(3), tmp_path / "split")
    resumed, _ = decipher.train(run(6), tmp_path / "split", resume=True, steps=6)
    for (name, a), (_, b) in zip(
        full.state_dict().items(), resumed.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
