"""--ema: a moving average of the weights, evaluated and kept in place of the last ones."""

import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from rnnlab import checkpoint as ckpt
from rnnlab import lm
from rnnlab.errors import UserError
from rnnlab.train.averaging import WeightAverage

from .test_lm import TEXT, tiny_lm_run


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_the_average_follows_the_formula_over_a_sequence_of_weights():
    model = nn.Linear(3, 2)
    average = WeightAverage(model, decay=0.5)
    expected = [p.detach().clone() for p in model.parameters()]
    for step in range(14):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        average.update(model)
        for want, p in zip(expected, model.parameters(), strict=True):
            # the first update copies (AveragedModel's rule), later ones blend with a
            # decay that warms up: (1 + n) / (10 + n) after n updates, capped at 0.5
            d = min(0.5, (1 + step) / (10 + step))
            want.copy_(p if step == 0 else d * want + (1 - d) * p)
    for want, got in zip(expected, average.module.parameters(), strict=True):
        torch.testing.assert_close(got, want)


def test_tied_weights_stay_tied_in_the_average(text_file):
    run = tiny_lm_run(text_file, tie_weights=True, embedding=32, hidden=32)
    model = lm.CharLM(lm.CharLMConfig(**{**run.model.to_dict(), "vocab_size": 9}))
    averaged = WeightAverage(model, 0.99).module
    assert averaged.head.weight is averaged.embed.weight


def test_an_ema_run_evaluates_saves_and_resumes_its_average(text_file, tmp_path):
    run = tiny_lm_run(text_file, steps=40, ema=0.9)
    full, _ = lm.train(run, tmp_path / "full")
    out = tmp_path / "full"
    trained = load_file(str(out / ckpt.WEIGHTS))
    average = load_file(str(out / ckpt.AVERAGE_WEIGHTS))
    assert not torch.equal(trained["rnn.weight_hh_l0"], average["rnn.weight_hh_l0"])
    # what the run's last evaluation scored is the average, and `lm eval --last` loads it
    last_eval = [r for r in ckpt.read_metrics(out / "metrics.jsonl") if r.get("split")][-1]
    loaded = lm.load(out, device="cpu", last=True)
    assert loaded.weights == ckpt.AVERAGE_WEIGHTS
    assert lm.evaluate(loaded)["loss"] == pytest.approx(last_eval["loss"], rel=1e-5)
    # a resumed run ends with the same training weights and the same average
    lm.train(tiny_lm_run(text_file, steps=20, ema=0.9), tmp_path / "split")
    lm.train(tiny_lm_run(text_file, ema=0.9), tmp_path / "split", resume=True, steps=40)
    for name in (ckpt.WEIGHTS, ckpt.AVERAGE_WEIGHTS):
        split = load_file(str(tmp_path / "split" / name))
        for key, value in load_file(str(out / name)).items():
            assert torch.equal(value, split[key]), (name, key)


def test_ema_outside_zero_to_one_is_refused():
    for bad in (1.0, -0.1):
        with pytest.raises(UserError, match="--ema"):
            lm.TrainConfig(ema=bad)
