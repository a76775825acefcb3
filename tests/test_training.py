"""Trainer and checkpoint behaviour: round trips, exact resume, Ctrl-C, atomic writes."""

import json

import pytest
import torch

from rnnlab import checkpoint as ckpt
from rnnlab import decipher
from rnnlab.errors import UserError
from rnnlab.train import Callbacks, Interrupted

from .helpers import tiny_run


def params(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_params(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_reloaded_model_gives_identical_outputs(tmp_path):
    model, _ = decipher.train(tiny_run(10, bidirectional=True, layers=2), tmp_path / "run")
    loaded = decipher.load(tmp_path / "run", device="cpu")
    inputs = torch.randint(0, 27, (5, 40))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(inputs)[0], loaded.model(inputs)[0])


def test_checkpoint_directory_has_the_documented_files(tmp_path):
    decipher.train(tiny_run(10), tmp_path / "run")
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "config.json",
        "metrics.jsonl",
        "model.safetensors",
        "trainer_state.pt",
    ]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["task"] == "decipher"
    assert config["data"]["cipher_spec"] == {
        "name": "caesar",
        "key": 13,
        "alphabet": "ABCDEFGHIJKLMNOPQRSTUVWXYZ-",
    }
    metrics = ckpt.read_metrics(tmp_path / "run" / "metrics.jsonl")
    assert [m["step"] for m in metrics if m["split"] == "val"] == [5, 10]


@pytest.mark.parametrize("model_kind", ["lstm", "gru", "elman"])
def test_resume_gives_the_same_parameters_as_one_uninterrupted_run(tmp_path, model_kind):
    full, _ = decipher.train(tiny_run(20, model=model_kind, dropout=0.0), tmp_path / "full")
    decipher.train(tiny_run(10, model=model_kind), tmp_path / "split")
    resumed, _ = decipher.train(
        tiny_run(20, model=model_kind), tmp_path / "split", resume=True, steps=20
    )
    assert_same_params(params(full), params(resumed))
    # the log of the resumed run reads like the uninterrupted one
    steps = lambda d: [m["step"] for m in ckpt.read_metrics(d / "metrics.jsonl")]  # noqa: E731
    assert steps(tmp_path / "split") == steps(tmp_path / "full")


def test_resume_is_exact_with_dropout(tmp_path):
    # Dropout draws from the torch RNG, so this fails unless the RNG state is checkpointed.
    run = lambda steps: tiny_run(steps, layers=2, dropout=0.5)  # noqa: E731
    full, _ = decipher.train(run(20), tmp_path / "full")
    decipher.train(run(10), tmp_path / "split")
    resumed, _ = decipher.train(run(20), tmp_path / "split", resume=True, steps=20)
    assert_same_params(params(full), params(resumed))


class InterruptAt(Callbacks):
    def __init__(self, step: int) -> None:
        self.at = step

    def on_step(self, step: int) -> None:
        if step == self.at:
            raise KeyboardInterrupt


def test_ctrl_c_saves_the_last_step_and_resume_finishes_identically(tmp_path):
    full, _ = decipher.train(tiny_run(20), tmp_path / "full")
    with pytest.raises(Interrupted) as info:
        decipher.train(tiny_run(20), tmp_path / "cut", callbacks=InterruptAt(13))
    assert info.value.step == 13
    assert ckpt.weights_step(tmp_path / "cut") == 13
    resumed, _ = decipher.train(tiny_run(20), tmp_path / "cut", resume=True)
    assert_same_params(params(full), params(resumed))


class StopAt(Callbacks):
    """A stop button pressed at `step`, as the web page's training job has one."""

    def __init__(self, step: int) -> None:
        self.at, self.step = step, 0

    def on_step(self, step: int) -> None:
        self.step = step

    def should_stop(self) -> bool:
        return self.step >= self.at


def test_a_stop_request_saves_like_ctrl_c_and_resume_finishes_identically(tmp_path):
    full, _ = decipher.train(tiny_run(20), tmp_path / "full")
    with pytest.raises(Interrupted) as info:
        decipher.train(tiny_run(20), tmp_path / "cut", callbacks=StopAt(7))
    assert info.value.step == 7
    assert ckpt.weights_step(tmp_path / "cut") == 7
    # the metrics logged up to the stop are saved with it (the step-5 log and evaluation)
    assert [m["step"] for m in ckpt.read_metrics(tmp_path / "cut" / "metrics.jsonl")] == [5, 5]
    resumed, _ = decipher.train(tiny_run(20), tmp_path / "cut", resume=True)
    assert_same_params(params(full), params(resumed))


def test_ctrl_c_before_any_step_leaves_no_directory(tmp_path):
    class InterruptAtStart(Callbacks):
        def on_start(self, start_step, total_steps):
            raise KeyboardInterrupt

    with pytest.raises(Interrupted):
        decipher.train(tiny_run(20), tmp_path / "run", callbacks=InterruptAtStart())
    assert not (tmp_path / "run").exists()


def test_failed_write_keeps_the_previous_file(tmp_path):
    target = tmp_path / "model.safetensors"
    target.write_bytes(b"good")

    def crash(tmp):
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ckpt.atomic_write(target, crash)
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_training_into_an_existing_checkpoint_is_refused(tmp_path):
    decipher.train(tiny_run(5), tmp_path / "run")
    before = (tmp_path / "run" / "model.safetensors").read_bytes()
    with pytest.raises(UserError, match="already holds a checkpoint"):
        decipher.train(tiny_run(5), tmp_path / "run")
    assert (tmp_path / "run" / "model.safetensors").read_bytes() == before


def test_corrupted_weights_are_reported(tmp_path):
    decipher.train(tiny_run(5), tmp_path / "run")
    (tmp_path / "run" / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(UserError, match="corrupted"):
        decipher.load(tmp_path / "run")


def test_weights_that_do_not_fit_the_config_are_reported(tmp_path):
    decipher.train(tiny_run(5), tmp_path / "run")
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    config["model"]["hidden"] = 17
    (tmp_path / "run" / "config.json").write_text(json.dumps(config))
    with pytest.raises(UserError, match="do not match the config"):
        decipher.load(tmp_path / "run")


def test_mismatched_weights_and_trainer_state_refuse_to_resume(tmp_path):
    decipher.train(tiny_run(10), tmp_path / "a")
    decipher.train(tiny_run(5), tmp_path / "b")
    (tmp_path / "b" / "model.safetensors").write_bytes(
        (tmp_path / "a" / "model.safetensors").read_bytes()
    )
    with pytest.raises(UserError, match="different saves"):
        decipher.train(tiny_run(10), tmp_path / "b", resume=True)


def test_trainer_state_loads_without_unpickling_code(tmp_path):
    decipher.train(tiny_run(5), tmp_path / "run")
    state = torch.load(tmp_path / "run" / "trainer_state.pt", weights_only=True)
    assert state["step"] == 5


@pytest.mark.gpu
def test_checkpoint_saved_on_gpu_loads_on_cpu_and_back(tmp_path):
    run = tiny_run(10)
    run.train.device = "cuda"
    model, _ = decipher.train(run, tmp_path / "run")
    inputs = torch.randint(0, 27, (4, 30))
    model.eval()
    with torch.no_grad():
        on_gpu = model(inputs.cuda())[0].cpu()
        cpu = decipher.load(tmp_path / "run", device="cpu")
        torch.testing.assert_close(cpu.model(inputs)[0], on_gpu, rtol=1e-4, atol=1e-5)
        back = decipher.load(tmp_path / "run", device="cuda")
        torch.testing.assert_close(back.model(inputs.cuda())[0].cpu(), on_gpu)


def test_plot_draws_loss_and_accuracy_from_metrics(tmp_path):
    from rnnlab.plot import plot_metrics

    decipher.train(tiny_run(10), tmp_path / "run")
    out = plot_metrics(tmp_path / "run", tmp_path / "curves.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "run" / "metrics.jsonl").unlink()
    with pytest.raises(UserError, match="no metrics.jsonl"):
        plot_metrics(tmp_path / "run")


def test_resume_refuses_an_option_unlike_the_saved_runs(tmp_path, capsys):
    """`--hidden 64` on a 128-unit run was silently ignored; now it is one line naming it."""
    from .helpers import assert_one_line_error, run_cli

    out = str(tmp_path / "run")
    base = ["decipher", "train", "--out", out, "--steps", "4", "--eval-every", "2", "--quiet"]
    assert run_cli([*base, "--val-examples", "16"], capsys)[0] == 0
    code, _, err = run_cli([*base, "--resume", "--hidden", "64"], capsys)
    assert_one_line_error(code, err, "hidden 128, not 64")
    code, _, err = run_cli([*base, "--resume", "--cipher", "vigenere"], capsys)
    assert_one_line_error(code, err, "cipher 'caesar', not 'vigenere'")
    # the same settings, more steps, or a device: all fine
    resumed = [*base[:-3], "--steps", "6", "--quiet", "--resume", "--hidden", "128"]
    assert run_cli([*resumed, "--device", "cpu"], capsys)[0] == 0


def test_lm_resume_refuses_an_option_unlike_the_saved_runs(tmp_path, capsys):
    from .helpers import assert_one_line_error, run_cli

    text = tmp_path / "t.txt"
    text.write_text("the cat sat on the mat. " * 200)
    out = str(tmp_path / "lm")
    base = ["lm", "train", "--data", str(text), "--out", out, "--hidden", "16", "--embedding"]
    base += ["16", "--layers", "1", "--seq-len", "10", "--batch-size", "4", "--quiet"]
    assert run_cli([*base, "--steps", "2", "--eval-every", "2"], capsys)[0] == 0
    code, _, err = run_cli([*base, "--steps", "4", "--resume", "--layers", "2"], capsys)
    assert_one_line_error(code, err, "layers 1, not 2")
