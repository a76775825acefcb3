"""One declaration of every training option (rnnlab.options): the CLI's flags, the web API's
request model and Train form, config files, `--from RUN` and the resume check are made
from it, and agree with it."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest

from rnnlab import decipher, lm
from rnnlab.cli import build_parser
from rnnlab.errors import UserError
from rnnlab.options import ARCHITECTURES, DECIPHER, DECLARATIONS, LM
from tests.helpers import assert_one_line_error, run_cli

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
STATIC = ROOT / "src" / "rnnlab" / "serve" / "static"


def train_parser(task: str) -> argparse.ArgumentParser:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    group = next(
        a for a in commands.choices[task]._actions if isinstance(a, argparse._SubParsersAction)
    )
    return group.choices["train"]


@pytest.mark.parametrize("task", sorted(DECLARATIONS))
def test_every_option_is_a_flag_made_from_its_declaration(task):
    actions = {a.dest: a for a in train_parser(task)._actions}
    for option in DECLARATIONS[task]:
        action = actions[option.name]
        assert action.option_strings[0] == option.flag
        assert action.default is None  # "given" is "typed": the library fills the default
        assert action.choices == (list(option.choices) if option.choices else None)
        if option.default is not None and not option.switch:
            assert str(option.default) in action.help, option.name
        for value in option.by.values():
            assert str(value) in action.help, option.name


@pytest.mark.parametrize("task", sorted(DECLARATIONS))
def test_the_api_schema_takes_bounds_and_choices_from_the_declaration(task):
    from rnnlab.serve.train_schema import DecipherTrainRequest, LMTrainRequest

    model = {"decipher": DecipherTrainRequest, "lm": LMTrainRequest}[task]
    properties = model.model_json_schema()["properties"]
    for option in DECLARATIONS[task]:
        if option.file:  # a file on the server is the command line's
            assert option.name not in properties
            continue
        schema = next(s for s in properties[option.name]["anyOf"] if s.get("type") != "null")
        assert properties[option.name]["title"] == option.label
        for key, bound in [
            ("minimum", option.minimum),
            ("maximum", option.maximum),
            ("exclusiveMinimum", option.above),
            ("exclusiveMaximum", option.below),
        ]:
            assert schema.get(key) == bound, (option.name, key)
        choices = option.web_choices or option.choices
        assert schema.get("enum") == (list(choices) if choices else None), option.name


def test_the_form_description_is_the_declaration_and_the_page_holds_no_default():
    from rnnlab.serve.train_schema import form_description

    described = form_description("cpu")
    assert described["decipher"]["options"] == DECIPHER.describe(web=True)
    assert described["lm"]["options"] == LM.describe(web=True)
    assert [a["name"] for a in described["decipher"]["architectures"]] == list(ARCHITECTURES)
    script = (STATIC / "train.js").read_text()
    html = (STATIC / "index.html").read_text()
    for declaration in DECLARATIONS.values():
        for option in declaration:
            for value in [option.default, *option.by.values()]:
                if isinstance(value, bool) or value is None or value in (0, 1, ""):
                    continue
                literal = re.escape(json.dumps(value) if isinstance(value, str) else str(value))
                # where a default would be written: `steps: 300`, `= 300`, `?? 300`, `|| 300`
                pattern = rf"(:|=|\?\?|\|\|)\s*{literal}(?![\w.])"
                assert not re.search(pattern, script), (option.name, value)
                assert not re.search(rf'value="{re.escape(str(value))}"', html), option.name


# -- the architecture by name -----------------------------------------------------------


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_every_architecture_can_be_chosen_by_name_alone(arch):
    run = decipher.build_run({"arch": arch})
    assert run.architecture == arch
    assert run.data.key_mode == ARCHITECTURES[arch].key_modes[0]


@pytest.mark.parametrize("layers", ["1", "2"])
def test_an_option_the_architecture_does_not_take_is_an_error_whatever_its_value(
    tmp_path, capsys, layers
):
    code, _, err = run_cli(
        ["decipher", "train", "--arch", "keyed", "--layers", layers, "--out", str(tmp_path)],
        capsys,
    )
    assert_one_line_error(code, err, "--layers is not an option of the keyed model")
    assert not any(tmp_path.iterdir())


def test_the_old_flags_still_choose_their_architectures():
    cases = [
        ({"two_pass": True}, "twopass"),
        ({"feedback": 8, "cipher": "autokey", "key": "KEY"}, "feedback"),
        ({"key_mode": "given", "cipher": "vigenere"}, "keyed"),
        ({"key_mode": "given", "cipher": "enigma"}, "rotor"),
        ({}, "tagger"),
    ]
    for options, arch in cases:
        assert decipher.build_run(options).architecture == arch


def test_options_are_checked_against_their_bounds_and_types():
    for bad, words in [
        ({"hidden": 2**31}, "`hidden` must be at most 8192"),
        ({"steps": 0}, "`steps` must be at least 1"),
        ({"steps": True}, "`steps` must be a whole number"),
        ({"lr": float("nan")}, "`lr` must be a finite number"),
        ({"dropout": 1.0}, "`dropout` must be below 1"),
        ({"model": "transformer"}, "`model` must be one of lstm, gru, elman"),
        ({"hidenn": 3}, "has no option 'hidenn'"),
    ]:
        with pytest.raises(UserError, match=re.escape(words)):
            decipher.build_run(bad)
    with pytest.raises(UserError, match="`steps` and `max_time` exclude each other"):
        lm.build_run({"steps": 10, "max_time": 1.0, "device": "cpu"})


# -- config files and --from ------------------------------------------------------------


def config_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "config.json").read_text())


@pytest.mark.parametrize(
    "example, flags",
    [
        (
            "seed-task.toml",
            ["--cipher", "caesar", "--key", "13", "--alphabet", "ABCDEFGHIJKLMNOPQRSTUVWXYZ-"]
            + ["--seq-len", "32", "--steps", "300"],
        ),
        (
            "vigenere-given-key.toml",
            ["--arch", "keyed", "--cipher", "vigenere", "--key-mode", "given"]
            + ["--key-length", "3-12", "--steps", "1000"],
        ),
    ],
)
def test_a_config_file_trains_what_its_flags_train(tmp_path, capsys, example, flags):
    # a few steps of each (flags win over the file), so that the test is quick
    quick = ["--steps", "3", "--eval-every", "3", "--val-examples", "8", "--quiet"]
    by_file = ["--config", str(EXAMPLES / example), *quick, "--out", str(tmp_path / "file")]
    assert run_cli(["decipher", "train", *by_file], capsys)[0] == 0
    assert (
        run_cli(["decipher", "train", *flags, *quick, "--out", str(tmp_path / "flags")], capsys)[0]
        == 0
    )
    assert config_of(tmp_path / "file") == config_of(tmp_path / "flags")


def test_the_lm_example_is_the_ten_minute_run_of_the_benchmark():
    from rnnlab.cli.options import given_options

    args = build_parser().parse_args(
        ["lm", "train", "--config", str(EXAMPLES / "lm-10-minutes.toml")]
    )
    by_file = lm.build_run(given_options(args, LM))
    by_flags = lm.build_run({"preset": "cpu", "max_time": 10})
    assert by_file == by_flags and by_file.train.max_time_min == 10


@pytest.mark.parametrize(
    "text, words",
    [
        ("hidden = [", "not TOML"),
        ("hiden = 64", "hiden: not an option of decipher train (did you mean hidden?)"),
        ('hidden = "big"', "hidden: must be a whole number, got 'big'"),
        ("steps = 0", "steps: must be at least 1, got 0"),
        ("[model]\nhidden = 3", "model: expected a string, got a TOML table"),
    ],
)
def test_a_bad_config_file_is_one_line_naming_the_file_and_the_key(tmp_path, capsys, text, words):
    path = tmp_path / "run.toml"
    path.write_text(text)
    code, _, err = run_cli(
        ["decipher", "train", "--config", str(path), "--out", str(tmp_path / "r")], capsys
    )
    assert_one_line_error(code, err, f"{path}: ")
    assert words in err
    assert not (tmp_path / "r").exists()


def test_flags_win_over_a_config_file_and_a_config_file_over_from(tmp_path, capsys):
    from rnnlab.cli.options import given_options

    path = tmp_path / "run.toml"
    path.write_text("hidden = 32\nsteps = 50\n")
    args = build_parser().parse_args(["decipher", "train", "--config", str(path), "--steps", "7"])
    options = given_options(args, DECIPHER, saved={"hidden": 16, "layers": 2})
    assert options.given == {"hidden": 32, "steps": 7, "layers": 2}
    # a minutes budget typed on the command line replaces the file's steps for the LM
    path.write_text("steps = 50\n")
    args = build_parser().parse_args(["lm", "train", "--config", str(path), "--max-time", "2"])
    assert given_options(args, LM).given == {"max_time": 2.0}


TINY = ["--steps", "2", "--eval-every", "2", "--val-examples", "8", "--quiet"]


@pytest.mark.parametrize(
    "flags",
    [
        ["--model", "gru", "--hidden", "16", "--layers", "2", "--bidirectional"],
        ["--cipher", "vigenere", "--key-mode", "given", "--hidden", "16", "--no-feed-location"],
        ["--cipher", "autokey", "--key", "QUEEN", "--feedback", "4", "--hidden", "16"],
        ["--cipher", "vigenere", "--two-pass", "--key-pooling", "periodic", "--key-length", "3-5"]
        + ["--hidden", "16", "--layers", "1", "--seq-len", "40"],
        ["--cipher", "enigma", "--key-mode", "given", "--key", "rotors=I,II,III reflector=B"],
    ],
    ids=["tagger", "keyed", "feedback", "twopass", "rotor"],
)
def test_from_a_run_starts_a_new_run_with_its_options(tmp_path, capsys, flags):
    first, second = tmp_path / "first", tmp_path / "second"
    assert run_cli(["decipher", "train", *flags, *TINY, "--out", str(first)], capsys)[0] == 0
    code, _, err = run_cli(
        ["decipher", "train", "--from", str(first), "--out", str(second)], capsys
    )
    assert code == 0, err
    assert config_of(second) == config_of(first)


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("To be, or not to be, that is the question.\n" * 40, encoding="utf-8")
    return path


def test_from_a_language_model_run(tmp_path, capsys, text_file):
    first, second = tmp_path / "first", tmp_path / "second"
    flags = ["lm", "train", "--data", str(text_file), "--model", "mogrifier", "--hidden", "16"]
    flags += ["--embedding", "16", "--layers", "1", "--seq-len", "8", "--batch-size", "4"]
    flags += ["--steps", "2", "--eval-every", "2", "--device", "cpu", "--quiet"]
    assert run_cli([*flags, "--out", str(first)], capsys)[0] == 0
    code, _, err = run_cli(["lm", "train", "--from", str(first), "--out", str(second)], capsys)
    assert code == 0, err
    assert config_of(second) == config_of(first)


def test_from_a_missing_run_or_one_of_the_other_task_is_one_line(tmp_path, capsys):
    code, _, err = run_cli(["decipher", "train", "--from", str(tmp_path / "none")], capsys)
    assert_one_line_error(code, err, "no such checkpoint directory")
    run = tmp_path / "tagger"
    assert run_cli(["decipher", "train", *TINY, "--out", str(run)], capsys)[0] == 0
    code, _, err = run_cli(["lm", "train", "--from", str(run)], capsys)
    assert_one_line_error(code, err, "holds a 'decipher' model, not a 'lm' model")


def test_resume_refuses_an_option_from_a_config_file_that_differs(tmp_path, capsys):
    run = tmp_path / "run"
    assert run_cli(["decipher", "train", *TINY, "--out", str(run)], capsys)[0] == 0
    path = tmp_path / "wider.toml"
    path.write_text("hidden = 64\n")
    code, _, err = run_cli(
        ["decipher", "train", "--config", str(path), "--resume", "--out", str(run)], capsys
    )
    assert_one_line_error(code, err, "was trained with hidden 128, not 64")


# -- the web API ------------------------------------------------------------------------


@pytest.fixture
def client(tmp_path):
    from fastapi.testclient import TestClient

    from rnnlab.serve.app import create_app

    with TestClient(create_app(tmp_path / "runs")) as c:
        yield c


def wait_done(client, seconds=120):
    import time

    deadline = time.time() + seconds
    while time.time() < deadline:
        job = client.get("/api/train").json()["job"]
        if job["state"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError("the job did not end")


def test_the_page_trains_a_given_key_vigenere_model_and_a_mogrifier_lm(client, tmp_path):
    body = {"task": "decipher", "cipher": "vigenere", "key_mode": "given", "key_length": "3-5"}
    body |= {"hidden": 16, "steps": 3, "eval_every": 3, "val_examples": 8, "device": "cpu"}
    name = client.post("/api/train", json=body).json()["name"]
    assert wait_done(client)["state"] == "done"
    saved = config_of(tmp_path / "runs" / name)
    assert saved["architecture"] == "keyed" and saved["data"]["key_length"] == "3-5"
    body = {"task": "lm", "model": "mogrifier", "hidden": 16, "embedding": 16, "layers": 1}
    body |= {"seq_len": 8, "batch_size": 4, "steps": 2, "eval_every": 2, "device": "cpu"}
    name = client.post("/api/train", json=body).json()["name"]
    assert wait_done(client)["state"] == "done"
    assert config_of(tmp_path / "runs" / name)["model"]["model"] == "mogrifier"


def test_the_api_describes_the_form(client):
    described = client.get("/api/train/options").json()
    assert [o["name"] for o in described["decipher"]["options"]] == [
        o.name for o in DECIPHER if not o.file
    ]
    steps = next(o for o in described["lm"]["options"] if o["name"] == "steps")
    assert steps["defaults"]["cpu"] == 10000 and steps["maximum"] == LM["steps"].maximum


def test_resume_takes_the_options_a_resumed_run_may_change(tmp_path, capsys):
    run = tmp_path / "run"
    assert run_cli(["decipher", "train", *TINY, "--out", str(run)], capsys)[0] == 0
    more = ["--steps", "4", "--max-time", "5", "--eval-every", "4", "--quiet"]
    assert run_cli(["decipher", "train", *more, "--resume", "--out", str(run)], capsys)[0] == 0
    train = config_of(run)["train"]
    assert (train["steps"], train["max_time_min"], train["eval_every"]) == (4, 5.0, 4)
