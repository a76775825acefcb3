"""impl= end to end: the compiled path's fallback and fused kernels, the models and CLI
training with each impl, old checkpoints, --precision on a CPU, and `rnnlab bench`."""

from __future__ import annotations

import json
import shutil
from collections import Counter

import pytest
import torch

from rnnlab import nn as rnn
from rnnlab.checkpoint import CONFIG
from rnnlab.models.charlm import CharLM, CharLMConfig
from rnnlab.nn import gates

from .helpers import assert_one_line_error, run_cli
from .test_nn_parity import STEPS, assert_parity


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


def count_fused_calls(monkeypatch) -> Counter:
    """Calls of each fused kernel from here on (it must have compiled already)."""
    calls: Counter = Counter()
    for name, fn in list(gates._fused.items()):

        def counted(*args, _fn=fn, _name=name):
            calls[_name] += 1
            return _fn(*args)

        monkeypatch.setitem(gates._fused, name, counted)
    return calls


@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_fused_gate_kernels_match_torch_at_the_smallest_size(fresh_gates, monkeypatch, mode):
    """Every real model size takes the fused path (B x H >= MIN_FUSED_ELEMENTS); here the
    threshold is 0 and the model tiny, so the default run checks it too. Batch 2 and
    hidden 2 are the shapes fused_available() probes with, so the LSTM forward kernel it
    compiles serves again: compiling costs ~3 s for the process with inductor's on-disk
    cache warm, ~20 s cold (the first compile in a process is most of it). Wider shapes,
    float64 and a second batch size are in the slow test below."""
    if not any(shutil.which(cxx) for cxx in ("c++", "g++", "clang++")):
        pytest.skip("no C++ compiler: torch.compile cannot build CPU kernels here")
    assert gates.fused_available()  # or the fallback's warning on stderr says why not
    calls = count_fused_calls(monkeypatch)
    torch.manual_seed(0)
    ref_cls, cls = (torch.nn.LSTM, rnn.LSTM) if mode == "lstm" else (torch.nn.GRU, rnn.GRU)
    kw = dict(num_layers=2, bidirectional=True)  # the kernels' shapes stay (2, k x 2)
    ref, ours = ref_cls(3, 2, **kw), cls(3, 2, **kw, impl="compiled")
    ours.load_state_dict(ref.state_dict())
    g = torch.Generator().manual_seed(1)
    x = torch.randn(STEPS, 2, 3, generator=g)
    h0 = torch.randn(4, 2, 2, generator=g)
    hx = (h0, torch.randn(4, 2, 2, generator=g)) if mode == "lstm" else h0
    lengths = torch.tensor([STEPS, 4])  # a padded row: the masked steps too
    assert_parity(ours, ref, x, hx, lengths, False, 1e-5)
    assert calls[f"{mode}_forward"] > 0 and calls[f"{mode}_backward"] > 0


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


def seed_loop(model: CharLM, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Seed 003's Elman maths written out over `model`'s parameters, independent of
    rnnlab.nn: per layer and step h_t = tanh(i2h x_t + h2h h_(t-1)) from h_0 = 0, with i2h
    unbiased and h2h biased, each layer reading the outputs of the one below; CharLM's
    embedding in front and Linear after. Returns logits and the final states."""
    p = dict(model.named_parameters())
    x = p["embed.weight"][ids]
    finals = []
    for layer in range(model.config.layers):
        w_ih, w_hh = p[f"rnn.i2h.{layer}.weight"], p[f"rnn.h2h.{layer}.weight"]
        b_hh = p[f"rnn.h2h.{layer}.bias"]
        h = x.new_zeros(x.shape[0], model.config.hidden)
        outputs = []
        for t in range(x.shape[1]):
            h = torch.tanh(x[:, t] @ w_ih.T + h @ w_hh.T + b_hh)
            outputs.append(h)
        x = torch.stack(outputs, dim=1)
        finals.append(h)
    return x @ p["head.weight"].T + p["head.bias"], torch.stack(finals)


@pytest.mark.parametrize("impl", ["torch", "scratch", "compiled"])
def test_charlm_elman_computes_the_seeds_loop_with_its_weights_for_every_impl(impl):
    torch.manual_seed(0)
    config = dict(vocab_size=7, model="elman", embedding=4, hidden=5, layers=2)
    seed = CharLM(CharLMConfig(**config))  # the seed's weights, as any impl saves them
    model = CharLM(CharLMConfig(**config, impl=impl))
    model.load_state_dict(seed.state_dict())  # i2h / h2h keys, whatever the impl
    assert any(k.startswith("rnn.i2h.") for k in model.state_dict())
    model.double()
    ids = torch.randint(0, 7, (3, 6))
    results = []
    for logits, state in (model(ids), seed_loop(model, ids)):
        # weights the positions differently so a shifted or reversed result cannot pass
        loss = (logits * torch.linspace(0.5, 1.5, logits.numel()).view_as(logits)).sum()
        loss = loss + (state**2).sum()
        results.append([logits, state, *torch.autograd.grad(loss, list(model.parameters()))])
    for got, want in zip(*results, strict=True):
        torch.testing.assert_close(got, want, atol=1e-10, rtol=1e-10)


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


@pytest.mark.parametrize("command", [["decipher", "train"], ["lm", "train"], ["bench"]])
def test_fp16_on_cpu_is_a_one_line_error(tmp_path, capsys, command):
    args = [*command, "--precision", "fp16", "--device", "cpu"]
    args += ["--out", str(tmp_path / "r")] if command != ["bench"] else ["--quick"]
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


def test_bench_times_rnnlabs_whole_lm_training_path_beside_the_bare_loop():
    """The lm-train-path rows run CharLM through the Trainer (skipped by --quick): at the
    smallest case they must still run and report both sides."""
    from rnnlab import bench

    rows = bench.lm_train_path(bench.QUICK, torch.device("cpu"), reps=1, peak=1e9)
    assert [r["impl"] for r in rows] == ["torch", "rnnlab-default"]
    assert all(r["chars_per_s"] > 0 and r["mode"] == "train" for r in rows)
