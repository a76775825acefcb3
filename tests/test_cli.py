"""The command line: the seed task end to end, and one-line errors for bad input."""

import json

import pytest

from .helpers import assert_one_line_error, dir_files, run_cli, run_cli_process, tiny_run


@pytest.fixture(scope="module")
def seed_model(tmp_path_factory):
    """`rnnlab decipher train` with its defaults: the seed's shift-13 task."""
    out = tmp_path_factory.mktemp("seed") / "run"
    code, stdout = _train_default(out)
    assert code == 0
    return out, stdout


def _train_default(out):
    import contextlib
    import io

    from rnnlab.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        code = main(["decipher", "train", "--out", str(out), "--quiet"])
    return code, buf.getvalue()


def test_default_training_reaches_the_seed_target_and_decrypts_the_example(seed_model):
    out, stdout = seed_model
    assert "decrypt FUVEMVEMNMERPDRF -> THIS-IS-A-SECRET" in stdout
    last_val = [
        json.loads(line)
        for line in (out / "metrics.jsonl").read_text().splitlines()
        if '"val"' in line
    ][-1]
    assert last_val["accuracy"] >= 0.999


def test_decipher_run_prints_the_plaintext(seed_model, capsys):
    out, _ = seed_model
    assert run_cli(["decipher", "run", str(out), "FUVEMVEMNMERPDRF"], capsys) == (
        0,
        "THIS-IS-A-SECRET\n",
        "",
    )


def test_decipher_eval_json_holds_at_ten_times_the_training_length(seed_model, capsys):
    out, _ = seed_model
    code, stdout, _ = run_cli(
        ["decipher", "eval", str(out), "--lengths", "32,320", "--examples", "300", "--json"],
        capsys,
    )
    assert code == 0
    result = json.loads(stdout)
    assert set(result["accuracy"]) == {"32", "320"}
    assert min(result["accuracy"].values()) >= 0.999
    assert result["examples"] == 300


def test_decipher_run_reads_stdin_line_by_line(seed_model):
    out, _ = seed_model
    proc = run_cli_process(["decipher", "run", str(out), "-"], stdin=b"FUVEMVEMNMERPDRF\nNOP\n")
    assert proc.returncode == 0
    assert proc.stdout.decode() == "THIS-IS-A-SECRET\nABC\n"


def test_cipher_encrypt_and_decrypt(capsys):
    assert (
        run_cli(
            [
                "cipher",
                "encrypt",
                "--cipher",
                "caesar",
                "--key",
                "13",
                "--alphabet",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ-",
                "THIS-IS-A-SECRET",
            ],
            capsys,
        )[1]
        == "FUVEMVEMNMERPDRF\n"
    )
    assert run_cli(["cipher", "decrypt", "--cipher", "rot13", "URYYB"], capsys)[1] == "HELLO\n"
    code, stdout, _ = run_cli(["cipher", "list"], capsys)
    assert code == 0 and "caesar" in stdout and "rot13" in stdout


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"HELLO\tURYYB\nCAF\xe9\tPNS\xe9\n", "not valid utf-8 at byte offset"),
        (b"HELLO\tURYYB\nHELLO\tURYY\n", ":2: plaintext has 5 characters"),
    ],
)
def test_bad_pairs_file_exits_2_and_writes_no_checkpoint(tmp_path, capsys, content, fragment):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_bytes(content)
    out = tmp_path / "out"
    code, _, err = run_cli(["decipher", "train", "--pairs", str(pairs), "--out", str(out)], capsys)
    assert_one_line_error(code, err, fragment)
    assert not out.exists()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["decipher", "train", "--cipher", "enigmatic"], "unknown cipher 'enigmatic'"),
        (["decipher", "train", "--key", "x"], "caesar key must be an integer"),
        (["decipher", "train", "--steps", "0"], "--steps must be at least 1"),
        (["decipher", "train", "--model", "transformer"], "invalid choice: 'transformer'"),
        (["decipher", "train", "--no-such-flag"], "unrecognized arguments: --no-such-flag"),
        (["decipher", "train", "--key-mode", "unknown", "--key", "3"], "drop --key"),
        (["decipher", "train", "--key-mode", "given", "--cipher", "atbash"], "random keys"),
        (["decipher", "train", "--key-length", "3-5"], "--key-length is for"),
        (["decipher", "train", "--key-mode", "given", "--key-length", "9-3"], "low to high"),
        (["decipher", "train", "--resume"], "--resume needs --out"),
        (["cipher", "encrypt", "--cipher", "nope", "X"], "unknown cipher 'nope'"),
        (["decipher", "eval", "/nonexistent/run"], "no such checkpoint directory"),
        (["decipher", "eval", ".", "--lengths", "3,x"], "expected comma-separated integers"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(tmp_path, capsys, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, fragment)
    assert dir_files(tmp_path) == []  # nothing written, not even runs/


def test_unseen_character_is_named(seed_model, capsys):
    out, _ = seed_model
    code, stdout, err = run_cli(["decipher", "run", str(out), "FUVE mv"], capsys)
    assert_one_line_error(code, err, "U+0020")
    assert stdout == ""


def test_missing_and_corrupted_checkpoints_exit_2(tmp_path, capsys):
    from rnnlab import decipher

    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_cli(["decipher", "run", str(empty), "ABC"], capsys)
    assert_one_line_error(code, err, "not an rnnlab checkpoint")

    decipher.train(tiny_run(5), tmp_path / "run")
    (tmp_path / "run" / "config.json").write_text("{not json")
    code, _, err = run_cli(["decipher", "eval", str(tmp_path / "run")], capsys)
    assert_one_line_error(code, err, "config.json: corrupted")

    decipher.train(tiny_run(5), tmp_path / "run2")
    (tmp_path / "run2" / "model.safetensors").write_bytes(b"truncated")
    code, _, err = run_cli(["decipher", "run", str(tmp_path / "run2"), "ABC"], capsys)
    assert_one_line_error(code, err, "model.safetensors: corrupted")

    (tmp_path / "run2" / "model.safetensors").unlink()
    code, _, err = run_cli(["decipher", "run", str(tmp_path / "run2"), "ABC"], capsys)
    assert_one_line_error(code, err, "has no model.safetensors")


def test_real_entry_point_prints_no_traceback_for_bad_input(tmp_path):
    pairs = tmp_path / "bad.tsv"
    pairs.write_bytes(b"\xff\xfe\x00binary")
    proc = run_cli_process(
        ["decipher", "train", "--pairs", str(pairs), "--out", str(tmp_path / "o")]
    )
    assert proc.returncode == 2
    assert proc.stderr.decode().startswith("error: ")
    assert b"Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_pairs_training_learns_a_users_cipher(tmp_path, capsys):
    import numpy as np

    from rnnlab.ciphers import get_cipher

    cipher = get_cipher("caesar", key=7, alphabet="abcdefghijklmnopqrstuvwxyz ")
    rng = np.random.default_rng(0)
    lines = []
    for _ in range(400):
        plain = "".join(rng.choice(list("abcdefghijklmnopqrstuvwxyz "), size=rng.integers(5, 20)))
        lines.append(f"{plain}\t{cipher.encrypt(plain)}")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    code, stdout, _ = run_cli(
        [
            "decipher",
            "train",
            "--pairs",
            str(pairs),
            "--out",
            str(out),
            "--steps",
            "200",
            "--quiet",
        ],
        capsys,
    )
    assert code == 0
    code, stdout, _ = run_cli(
        ["decipher", "eval", str(out), "--pairs", str(pairs), "--json"], capsys
    )
    assert json.loads(stdout)["accuracy"]["pairs"] >= 0.99
    code, stdout, _ = run_cli(["decipher", "run", str(out), cipher.encrypt("hello world")], capsys)
    assert stdout == "hello world\n"


def test_dry_run_writes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, _ = run_cli(["decipher", "train", "--dry-run"], capsys)
    assert code == 0 and "dry run ok" in stdout
    assert dir_files(tmp_path) == []
