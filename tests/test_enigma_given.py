"""The Enigma as crypto-rnn learned it: one machine (--key), a random start position per
message, handed to the model as its key (the rotor model by default)."""

import json

import numpy as np
import pytest
import torch

from rnnlab.ciphers import get_cipher
from rnnlab.ciphers.keygen import KeySpace, key_symbols
from rnnlab.cli import main
from rnnlab.errors import UserError
from rnnlab.models.rotor import RotorDecipherer, RotorModelConfig

from .helpers import assert_one_line_error, run_cli

LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MACHINE = "rotors=II,IV,V reflector=B rings=BUL plugboard=AV,BS,CG"


def test_a_bare_three_letter_key_part_is_the_start_position():
    assert get_cipher("enigma", key="ADU").key == get_cipher("enigma", key="start=ADU").key
    with_machine = get_cipher("enigma", key=f"{MACHINE} ADU")
    assert with_machine.key == get_cipher("enigma", key=f"{MACHINE} start=ADU").key


def test_start_positions_drawn_under_a_fixed_machine_keep_the_machine():
    space = KeySpace("enigma", LATIN, fixed=MACHINE)
    assert space.size == 26**3 and space.holds_out
    assert space.min_symbols == space.max_symbols == 3
    rng = np.random.default_rng(0)
    starts = set()
    for _ in range(30):
        cipher = space.draw_cipher(rng, held_out=False)
        start = "".join(LATIN[s] for s in key_symbols(cipher))
        starts.add(start)
        assert cipher.key == get_cipher("enigma", key=f"{MACHINE} start={start}").key
        assert not space.is_held_out(str(cipher.key))
    assert len(starts) > 20


@pytest.mark.parametrize(
    "key, fragment",
    [("AD1", "three letters like ADU"), ("ABCD", "three letters like ADU")],
)
def test_a_malformed_start_position_is_refused(key, fragment):
    with pytest.raises(UserError, match=fragment):
        KeySpace("enigma", LATIN, fixed=MACHINE).cipher(key)


def test_a_machine_with_a_start_or_bad_rotors_is_refused_for_given_keys():
    with pytest.raises(UserError, match="drop start="):
        KeySpace("enigma", LATIN, fixed=f"{MACHINE} start=ABC")
    with pytest.raises(UserError, match="three different rotors"):
        KeySpace("enigma", LATIN, fixed="rotors=I,I,II")
    with pytest.raises(UserError, match="drop --key"):
        KeySpace("vigenere", LATIN, fixed="KEY")


def tiny_rotor(positions: int = 26) -> RotorDecipherer:
    config = RotorModelConfig(positions=positions)
    config.sized_for(26, 26, KeySpace("enigma", LATIN, fixed=MACHINE))
    torch.manual_seed(0)
    return RotorDecipherer(config)


def test_rotor_model_streams_in_chunks_exactly_as_in_one_pass():
    model = tiny_rotor().eval()
    with torch.no_grad():
        model.gate.bias.copy_(torch.tensor([3.0, -3.0, -3.0]))  # one counter ticks
        model.table.normal_()
    inputs = torch.randint(0, 26, (2, 70))
    keys, lengths = torch.tensor([[0, 3, 20], [7, 7, 25]]), torch.tensor([3, 3])
    whole = model.decode(inputs, keys, lengths, chunk=70)
    pieces = model.decode(inputs, keys, lengths, chunk=16)
    assert torch.equal(whole.ids, pieces.ids)
    assert torch.allclose(whole.logits, pieces.logits)
    assert torch.equal(whole.state, pieces.state)  # hard counters: one-hot, 70 steps on
    assert torch.equal(whole.state[0, 0], torch.nn.functional.one_hot(torch.tensor(70 % 26), 26))


def test_rotor_model_reads_keys_of_exactly_its_length():
    model = tiny_rotor(positions=4)
    with pytest.raises(UserError, match="exactly 3 symbols"):
        model.decode(
            torch.zeros(1, 5, dtype=torch.long),
            torch.zeros(1, 2, dtype=torch.long),
            torch.tensor([2]),
        )


def keyed_odometer() -> RotorDecipherer:
    config = RotorModelConfig(start="key", gates="odometer")
    config.sized_for(26, 26, KeySpace("enigma", LATIN, fixed=MACHINE))
    torch.manual_seed(0)
    return RotorDecipherer(config)


def test_counters_started_from_the_key_sit_at_its_letters_and_have_no_start_weights():
    model = keyed_odometer().eval()
    keys = torch.tensor([[0, 3, 20], [25, 7, 7]])
    counters = model.initial_counters(keys, torch.tensor([3, 3]))
    assert torch.equal(counters.argmax(-1), keys)
    assert torch.equal(counters.sum(-1), torch.ones(2, 3))
    assert "start" not in model.state_dict()
    assert "start" in tiny_rotor().state_dict()  # runs saved before: learned start logits


def test_odometer_gates_read_only_their_own_counter_and_the_next_one():
    model = keyed_odometer().train()
    with torch.no_grad():
        model.gate.weight.normal_()
    counters = torch.rand(4, 3, 26).softmax(-1).requires_grad_()
    values, _ = model.count(1, counters)
    # gate 2 (the counter nearest the entry) reads counter 2 alone; gate 0 reads 0 and 1
    (grad,) = torch.autograd.grad(values[:, 0, 2].sum(), counters, retain_graph=True)
    assert grad[:, :2].abs().max() == 0 and grad[:, 2].abs().max() > 0
    (grad,) = torch.autograd.grad(values[:, 0, 0].sum(), counters)
    assert grad[:, 2].abs().max() == 0 and grad[:, 1].abs().max() > 0


def test_odometer_gates_can_hold_the_enigmas_stepping_exactly():
    """Gates set by hand to the machine's notches count as the machine steps, double step
    included, over 2,000 letters from every kind of start: the form can hold the answer."""
    cipher = get_cipher("enigma", key=MACHINE)
    notch_middle, notch_right = (next(iter(n)) for n in cipher.notches[1:])
    model = keyed_odometer().eval()
    with torch.no_grad():
        w = model.gate.weight.view(3, 3, 26)
        w.zero_()
        w[0, 1, notch_middle] = 20  # left: the middle at its notch
        w[1, 1, notch_middle] = w[1, 2, notch_right] = 20  # middle: double step, or carry
        model.gate.bias.copy_(torch.tensor([-10.0, -10.0, 10.0]))  # right: every letter
    starts = [[0, notch_middle - 1, notch_right - 2], [5, notch_middle, 0], [25, 25, 25]]
    counters = model.initial_counters(torch.tensor(starts), torch.tensor([3] * 3))
    values, _ = model.count(2000, counters)
    for row, start in enumerate(starts):
        position = list(start)
        for t in range(2000):
            position = cipher.step(position)
            assert values[row, t].argmax(-1).tolist() == position, (start, t)


@pytest.fixture(scope="module")
def enigma_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("enigma") / "run"
    args = ["decipher", "train", "--cipher", "enigma", "--key", MACHINE, "--key-mode", "given"]
    args += ["--seq-len", "8", "--steps", "6", "--curriculum", "2", "--eval-every", "3"]
    args += ["--val-examples", "20", "--out", str(out), "--quiet"]
    torch.set_num_threads(1)
    assert main(args) in (0, None)
    return out


def test_given_enigma_trains_the_rotor_model_records_the_machine_and_runs(enigma_run, capsys):
    config = json.loads((enigma_run / "config.json").read_text())
    assert config["architecture"] == "rotor"
    assert config["model"]["start"] == "key" and config["model"]["gates"] == "odometer"
    assert config["data"]["key"] == MACHINE and config["data"]["held_out_keys"] is True
    code, stdout, _ = run_cli(["decipher", "run", str(enigma_run), "--key", "adu", "HELLO"], capsys)
    assert code == 0 and len(stdout.strip()) == 5 and stdout.strip().isalpha()


def test_given_enigma_evaluates_on_held_out_start_positions(enigma_run, capsys):
    args = ["decipher", "eval", str(enigma_run), "--lengths", "8,80", "--examples", "10"]
    code, stdout, _ = run_cli([*args, "--json"], capsys)
    result = json.loads(stdout)
    assert code == 0 and set(result["accuracy"]) == {"8", "80"}
    assert result["key_mode"] == "given" and result["held_out_keys"] is True


@pytest.mark.parametrize(
    "extra, fragment",
    [
        ([], "pass --key"),
        (["--key", "AD1"], "three letters like ADU"),
        (["--key", "ADUX"], "three letters like ADU"),
    ],
)
def test_a_missing_or_malformed_start_key_exits_2(enigma_run, capsys, extra, fragment):
    code, _, err = run_cli(["decipher", "run", str(enigma_run), *extra, "HELLO"], capsys)
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--key", f"{MACHINE} start=ABC"], "drop start="),
        (["--key", "rotors=I,I,II"], "three different rotors"),
        (
            ["--key", MACHINE, "--arch", "rotor", "--hidden", "8"],
            "--hidden is not an option of the rotor",
        ),
    ],
)
def test_bad_given_enigma_training_options_exit_2(tmp_path, capsys, extra, fragment):
    args = ["decipher", "train", "--cipher", "enigma", "--key-mode", "given", *extra]
    code, _, err = run_cli([*args, "--steps", "1", "--out", str(tmp_path / "r")], capsys)
    assert_one_line_error(code, err, fragment)


@pytest.mark.slow
def test_the_rotor_model_learns_the_given_start_enigma_and_keeps_it_at_ten_times_the_length(
    tmp_path, capsys
):
    """The recorded recipe, shortened to 1,200 steps (about two CPU minutes): on held-out
    start positions it decrypts at the training length and at ten times it."""
    out = tmp_path / "run"
    full = "rotors=II,IV,V reflector=B rings=BUL plugboard=AV,BS,CG,DL,FU,HZ,IN,KM,OW,RX"
    args = ["decipher", "train", "--cipher", "enigma", "--key", full, "--key-mode", "given"]
    args += ["--batch-size", "128", "--lr", "3e-2", "--schedule", "cosine", "--steps", "1200"]
    args += ["--eval-every", "600", "--val-examples", "100", "--out", str(out), "--quiet"]
    assert main(args) in (0, None)
    capsys.readouterr()
    code, stdout, _ = run_cli(
        ["decipher", "eval", str(out), "--lengths", "32,320", "--examples", "100", "--json"],
        capsys,
    )
    accuracy = json.loads(stdout)["accuracy"]
    assert code == 0 and accuracy["32"] >= 0.99 and accuracy["320"] >= 0.99, accuracy
