"""impl= end to end: the compiled path's fallback and fused kernels, the models and CLI
training with each impl, old checkpoints, --precision on a CPU, and `rnnlab bench`."""

from __future__ import annotations

import json

import pytest
import torch

from rnnlab import nn as rnn
from rnnlab.checkpoint import CONFIG
from rnnlab.models.charlm import CharLM, CharLMConfig
from rnnlab.nn import gates

from .helpers import assert_one_line_error, run_cli
from .test_nn_parity import assert_parity


@pytest.fixture
def fresh_gates(monkeypatch):
    """A process that has not yet tried to compile, with the fused path always chosen."""
    monkeypatch.setattr(gates, "_fused", None)
    monkeypatch.setattr(gates, "_fused_failed", False)
    monkeypatch.setattr(gates, "MIN_FUSED_ELEMENTS", 0)


def lstm_pair(dtype=torch.float64):
    torch.manual_seed(0)
    ref = torch.nn.LSTM(3, 6, num_layers=2, batch_first=True).to(dtype)
    ours = rnn.LSTM(3, 6, num_layers=2, batch_first=True, impl="compiled").to(dtype)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def outputs_and_grads(model, x):
    out, (h, c) = model(x)
    loss = (out * out).sum() + h.sum() + c.sum()
    return [out, h, c, *torch.autograd.grad(loss, list(model.parameters()))]


def test_compiled_falls_back_to_eager_gates_with_one_warning(fresh_gates, monkeypatch, capsys):
    def no_compiler(*args, **kwargs):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(torch, "compile", no_compiler)
    ours, ref = lstm_pair()
    x = torch.randn(4, 5, 3, dtype=torch.float64)
    for _ in range(2):  # the second call must not warn again
        for got, want in zip(outputs_and_grads(ours, x), outputs_and_grads(ref, x), strict=True):
            torch.testing.assert_close(got, want)
    err = capsys.readouterr().err
    assert err.count("rnnlab:") == 1 and "no C++ compiler found" in err
    assert gates.kernels(torch.zeros(4, 6), 6) is gates.EAGER


@pytest.mark.slow  # compiles the fused gate kernels: tens of seconds on 2 cores
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_fused_gate_kernels_match_torch(fresh_gates, mode):
    torch.manual_seed(0)
    ref_cls, cls = (torch.nn.LSTM, rnn.LSTM) if mode == "lstm" else (torch.nn.GRU, rnn.GRU)
    ref = ref_cls(3, 6, bidirectional=True).double()
    ours = cls(3, 6, bidirectional=True, impl="compiled").double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(5, 4, 3, dtype=torch.float64)
    assert_parity(ours, ref, x, None, None, False, 1e-10)
    assert gates.kernels(torch.zeros(4, 6), 6) is not gates.EAGER


@pytest.mark.parametrize("impl", ["torch", "scratch", "compiled"])
def test_charlm_elman_keeps_seed_weights_for_every_impl(impl):
    torch.manual_seed(0)
    seed = CharLM(CharLMConfig(vocab_size=7, model="elman", embedding=4, hidden=5, layers=2))
    other = CharLM(
        CharLMConfig(vocab_size=7, model="elman", embedding=4, hidden=5, layers=2, impl=impl)
    )
    other.load_state_dict(seed.state_dict())  # i2h / h2h keys, whatever the impl
    assert any(k.startswith("rnn.i2h.") for k in other.state_dict())
    ids = torch.randint(0, 7, (3, 6))
    torch.testing.assert_close(other(ids)[0], seed(ids)[0])


def test_decipher_trains_end_to_end_with_scratch_impl(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["decipher", "train", "--impl", "scratch", "--steps", "200", "--hidden", "32"]
    args += ["--batch-size", "32", "--seq-len", "12", "--val-examples", "100"]
    code, stdout, _ = run_cli([*args, "--out", str(out), "--quiet", "--device", "cpu"], capsys)
    assert code == 0, stdout
    assert json.loads((out / CONFIG).read_text())["model"]["impl"] == "scratch"
    code, stdout, _ = run_cli(["decipher", "run", str(out), "FUVEMVEMNMERPDRF"], capsys)
    assert (code, stdout) == (0, "THIS-IS-A-SECRET\n")


def test_old_decipher_checkpoint_without_impl_loads(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["decipher", "train", "--steps", "2", "--hidden", "8", "--val-examples", "10"]
    assert run_cli([*args, "--out", str(out), "--quiet", "--device", "cpu"], capsys)[0] == 0
    config = json.loads((out / CONFIG).read_text())
    del config["model"]["impl"]  # as written before impl existed
    (out / CONFIG).write_text(json.dumps(config))
    code, stdout, err = run_cli(["decipher", "run", str(out), "ABC"], capsys)
    assert code == 0 and len(stdout) == 4, err


@pytest.mark.parametrize("model,impl", [("gru", "compiled"), ("elman", "scratch")])
def test_lm_trains_with_each_impl(tmp_path, capsys, monkeypatch, model, impl):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))
    data = tmp_path / "text.txt"
    data.write_text("the cat sat on the mat. " * 50, encoding="utf-8")
    args = ["lm", "train", "--data", str(data), "--model", model, "--impl", impl]
    args += ["--hidden", "16", "--layers", "2", "--seq-len", "10", "--batch-size", "4"]
    args += ["--steps", "4", "--eval-every", "2", "--device", "cpu", "--quiet"]
    code, stdout, err = run_cli([*args, "--out", str(tmp_path / "run")], capsys)
    assert code == 0, err
    config = json.loads((tmp_path / "run" / CONFIG).read_text())
    assert (config["model"]["model"], config["model"]["impl"]) == (model, impl)
    code, stdout, _ = run_cli(["lm", "sample", str(tmp_path / "run"), "--length", "5"], capsys)
    assert code == 0 and len(stdout) == 5 + 1  # no prime: 5 characters and a newline


@pytest.mark.parametrize("command", [["decipher", "train"], ["lm", "train"]])
@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_reduced_precision_on_cpu_is_a_one_line_error(tmp_path, capsys, command, precision):
    args = [*command, "--precision", precision, "--device", "cpu", "--out", str(tmp_path / "r")]
    code, _, err = run_cli(args, capsys)
    assert_one_line_error(code, err, "needs a CUDA device")
    assert not (tmp_path / "r").exists()


def test_bench_json_has_a_row_per_model_impl_and_mode(capsys):
    code, stdout, _ = run_cli(["bench", "--quick", "--reps", "1", "--json"], capsys)
    assert code == 0
    result = json.loads(stdout)
    assert {"cpu", "torch"} <= set(result["machine"])
    rows = result["rows"]
    combos = {(r["model"], r["impl"], r["mode"]) for r in rows}
    for model in ("lstm", "gru", "elman"):
        for impl in ("torch", "scratch", "compiled"):
            assert {(model, impl, "train"), (model, impl, "infer")} <= combos
    assert ("elman-seed", "scratch", "train") in combos
    for r in rows:
        assert r["chars_per_s"] > 0 and r["flop_fraction"] > 0
        if r["impl"] == "torch":
            assert r["ratio_vs_torch"] == 1.0


def test_bench_rejects_bad_input(capsys):
    code, _, err = run_cli(["bench", "--reps", "0"], capsys)
    assert_one_line_error(code, err, "--reps must be at least 1")


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_packed_step_matmul_matches_torch(monkeypatch, mode):
    """oneDNN's pre-packed per-step matmul (used for big float32 weights on a CPU)."""
    monkeypatch.setattr(gates, "MIN_PACKED_ELEMENTS", 0)
    if not gates._packed_available():
        pytest.skip("this torch build has no oneDNN packed linear")
    torch.manual_seed(0)
    ref_cls, cls = (torch.nn.LSTM, rnn.LSTM) if mode == "lstm" else (torch.nn.GRU, rnn.GRU)
    ref = ref_cls(3, 6, num_layers=2)
    ours = cls(3, 6, num_layers=2, impl="compiled")
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(5, 4, 3)
    assert_parity(ours, ref, x, None, None, False, 1e-5)
