"""The language model: corpus encoding, TBPTT, training, evaluation and sampling."""

import math
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file
from torch import nn

from rnnlab import checkpoint as ckpt
from rnnlab import lm
from rnnlab.data.corpus import load_corpus
from rnnlab.data.textstream import StreamBatches
from rnnlab.errors import UserError
from rnnlab.models.charlm import CharLM, CharLMConfig
from rnnlab.train.averaging import WeightAverage

from .helpers import assert_one_line_error, run_cli

TEXT = (
    "the cat sat on the mat. the dog sat on the log. a cat and a dog sat on a mat and a log.\n"
) * 40


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def tiny_lm_run(data, steps=60, **overrides) -> lm.LMRun:
    settings = dict(
        data=str(data),
        model="lstm",
        embedding=16,
        hidden=32,
        layers=1,
        dropout=0.0,
        tie_weights=False,
        seq_len=20,
        batch_size=8,
        lr=1e-2,
        optimizer="adam",
        schedule="constant",
        warmup=0,
        weight_decay=0.0,
        eval_every=20,
        steps=steps,
        device="cpu",
        precision="fp32",  # the preset's "auto" would differ between CPUs
    )
    settings.update(overrides)
    return lm.build_run({"preset": "cpu", **settings})


def unigram_entropy(text: str) -> float:
    counts = Counter(text)
    n = sum(counts.values())
    return -sum(c / n * math.log(c / n) for c in counts.values())


def test_corpus_split_vocab_and_compact_ids(text_file):
    corpus = load_corpus(text_file)
    n_train = int(len(TEXT) * 0.9)
    assert len(corpus.train.ids) == n_train and len(corpus.val.ids) == len(TEXT) - n_train
    assert corpus.vocab.chars == "".join(sorted(set(TEXT[:n_train])))
    assert corpus.train.ids.dtype == np.uint8
    assert corpus.vocab.decode(corpus.train.ids[:20]) == TEXT[:20]
    assert isinstance(corpus.train.ids, np.memmap)


def test_corpus_counts_validation_characters_outside_the_vocabulary(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("abab" * 45 + "abZZ" * 5, encoding="utf-8")  # Z only in the last 10%
    corpus = load_corpus(path)
    assert "Z" not in corpus.vocab
    assert corpus.val.oov == 10


def test_shipped_corpus_is_tiny_shakespeare():
    corpus = load_corpus()
    assert len(corpus.train.ids) + len(corpus.val.ids) == 1_115_394
    assert len(corpus.train.ids) == 1_003_854
    assert len(corpus.vocab) == 65


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "file is empty"),
        (b"abc\x00\x01\x02", "binary"),
        (b"good text\nbad \xc3\x28 here", "byte offset 14 (line 2)"),
    ],
)
def test_bad_text_files_are_user_errors(tmp_path, content, fragment):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(UserError) as info:
        load_corpus(path)
    assert fragment in str(info.value)


def test_stream_batches_continue_each_row_where_the_last_step_stopped():
    ids = np.arange(100, dtype=np.uint8)
    batches = StreamBatches(ids, batch_size=4, seq_len=5)  # rows of 25
    first, second = batches(1), batches(2)
    assert first.inputs[1].tolist() == list(range(25, 30))
    assert first.targets[1].tolist() == list(range(26, 31))
    assert second.inputs[1].tolist() == list(range(30, 35))
    assert first.reset_state and not second.reset_state
    assert batches(batches.steps_per_epoch + 1).reset_state  # a new pass starts fresh


def test_shuffled_epochs_rotate_the_text_and_keep_rows_continuous():
    ids = np.arange(103, dtype=np.uint8)  # 3 ids beyond the 4 rows of 25: used once rotated
    plain = StreamBatches(ids, batch_size=4, seq_len=5)
    shuffled = StreamBatches(ids, batch_size=4, seq_len=5, shuffle_seed=7)
    per_epoch = shuffled.steps_per_epoch
    # the first pass is the plain layout; later passes start at their own offsets
    for step in range(1, per_epoch + 1):
        assert torch.equal(shuffled(step).inputs, plain(step).inputs)
    offsets = {shuffled.epoch_offset(e) for e in range(1, 6)}
    assert len(offsets) > 1 and 0 not in offsets
    assert shuffled.epoch_offset(3) == StreamBatches(ids, 4, 5, shuffle_seed=7).epoch_offset(3)
    assert shuffled.epoch_offset(3) != StreamBatches(ids, 4, 5, shuffle_seed=8).epoch_offset(3)
    for epoch in range(1, 4):
        offset = shuffled.epoch_offset(epoch)
        first = shuffled(epoch * per_epoch + 1)
        assert first.reset_state
        starts = [(offset + row * 25) % 103 for row in range(4)]
        assert first.inputs[:, 0].tolist() == starts
        for k in range(per_epoch):  # every row reads on where it stopped, round the end
            batch = shuffled(epoch * per_epoch + 1 + k)
            expected = [[(s + k * 5 + t) % 103 for t in range(6)] for s in starts]
            assert batch.inputs.tolist() == [row[:5] for row in expected]
            assert batch.targets.tolist() == [row[1:] for row in expected]
            assert batch.reset_state == (k == 0)


def test_training_lowers_validation_loss_below_the_unigram_entropy(text_file):
    _, result = lm.train(tiny_lm_run(text_file, steps=120), text_file.parent / "run")
    assert result["loss"] < unigram_entropy(TEXT) - 0.5


def test_a_bf16_cpu_run_learns_as_the_fp32_run_does(text_file):
    losses = {}
    for name in ("fp32", "bf16"):
        run = tiny_lm_run(text_file, steps=120, precision=name)
        _, result = lm.train(run, text_file.parent / name)
        losses[name] = result["loss"]
    assert losses["bf16"] < unigram_entropy(TEXT) - 0.5
    # same seed, same batches: only the rounding of the products differs
    assert abs(losses["bf16"] - losses["fp32"]) < 0.1, losses


def test_tbptt_carries_state_between_batches(text_file, monkeypatch):
    """With state carried, the second batch's loss depends on the first batch's text."""
    corpus = load_corpus(text_file)
    run = tiny_lm_run(text_file)
    torch.manual_seed(0)
    model = CharLM(CharLMConfig(vocab_size=len(corpus.vocab), embedding=8, hidden=16, layers=1))
    task = lm.LMTask(corpus, run.data, batch_size=4)
    carried = model.loss(task.train_batch(1)).state
    assert carried is not None and float(carried[0].detach().abs().sum()) > 0
    loss_carried = model.loss(task.train_batch(2), carried).loss
    loss_reset = model.loss(task.train_batch(2)).loss
    assert not torch.allclose(loss_carried, loss_reset)


@pytest.mark.parametrize("shuffle_epochs", [False, True])
def test_resume_reproduces_an_uninterrupted_run_including_the_carried_state(
    text_file, tmp_path, shuffle_epochs
):
    # 19 steps per pass over the training text: the runs cross two epoch boundaries
    def run(steps=60):
        return tiny_lm_run(text_file, steps=steps, shuffle_epochs=shuffle_epochs)

    full, _ = lm.train(run(steps=40), tmp_path / "full")
    lm.train(run(steps=20), tmp_path / "split")
    resumed, _ = lm.train(run(), tmp_path / "split", resume=True, steps=40)
    for (k, a), (_, b) in zip(full.state_dict().items(), resumed.state_dict().items(), strict=True):
        assert torch.equal(a, b), k


def test_best_checkpoint_is_kept_beside_the_last(text_file, tmp_path):
    lm.train(tiny_lm_run(text_file, steps=60, lr=5e-2), tmp_path / "run")
    from rnnlab import checkpoint as ckpt

    records = [
        r for r in ckpt.read_metrics(tmp_path / "run" / "metrics.jsonl") if r["split"] == "val"
    ]
    best = min(records, key=lambda r: r["loss"])
    assert (tmp_path / "run" / "best.safetensors").exists()
    assert ckpt.weights_step(tmp_path / "run") == 60
    loaded = lm.load(tmp_path / "run", device="cpu")
    assert loaded.weights == "best.safetensors"
    assert lm.evaluate(loaded)["loss"] == pytest.approx(best["loss"], rel=1e-5)


def test_patience_stops_early(text_file, tmp_path):
    # a learning rate this large makes validation loss stop improving quickly
    _, result = lm.train(
        tiny_lm_run(text_file, steps=400, lr=3.0, eval_every=5, patience=2, grad_clip=0.0),
        tmp_path / "run",
    )
    assert result["step"] < 400


def test_lm_eval_equals_cross_entropy_computed_independently(text_file, tmp_path):
    lm.train(tiny_lm_run(text_file, steps=20), tmp_path / "run")
    loaded = lm.load(tmp_path / "run", device="cpu")
    result = lm.evaluate(loaded, data=str(text_file), columns=1)
    # Independent: one stream, one character at a time, summing -log p(next | prefix).
    ids = torch.tensor([loaded.vocab.chars.index(c) for c in TEXT])
    total, state = 0.0, None
    with torch.no_grad():
        for t in range(len(ids) - 1):
            logits, state = loaded.model(ids[t].view(1, 1), state)
            total -= float(F.log_softmax(logits[0, 0].double(), -1)[ids[t + 1]])
    assert result["chars"] == len(TEXT) - 1
    assert result["loss"] == pytest.approx(total / (len(TEXT) - 1), rel=1e-4)
    assert result["bpc"] == pytest.approx(result["loss"] / math.log(2))


def test_sampling_is_reproducible_and_seed_dependent(text_file, tmp_path):
    lm.train(tiny_lm_run(text_file, steps=40), tmp_path / "run")
    loaded = lm.load(tmp_path / "run", device="cpu")
    a = "".join(lm.sample(loaded, "the ", 200, temperature=1.0, seed=7))
    b = "".join(lm.sample(loaded, "the ", 200, temperature=1.0, seed=7))
    c = "".join(lm.sample(loaded, "the ", 200, temperature=1.0, seed=8))
    assert a == b and a != c and len(a) == 200
    greedy = "".join(lm.sample(loaded, "the ", 50, temperature=0))
    assert greedy == "".join(lm.sample(loaded, "the ", 50, temperature=0, seed=99))


def test_top_k_one_is_greedy_and_top_p_keeps_the_nucleus():
    gen = torch.Generator().manual_seed(0)
    logits = torch.tensor([0.0, 3.0, 1.0, 2.9])
    assert {lm.pick_next(logits, 1.0, 1, 1.0, gen) for _ in range(20)} == {1}
    # p = 0.5: token 1 alone has ~0.47 of the mass, so the nucleus is {1, 3}
    assert {lm.pick_next(logits, 1.0, 0, 0.5, gen) for _ in range(200)} == {1, 3}


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--temperature", "-1"], "--temperature must be >= 0"),
        (["--top-p", "0"], "--top-p must be in (0, 1]"),
        (["--top-p", "1.5"], "--top-p must be in (0, 1]"),
        (["--prime", "the \u00e9"], "prime character"),
    ],
)
def test_bad_sampling_arguments_exit_2(text_file, tmp_path, capsys, args, fragment):
    lm.train(tiny_lm_run(text_file, steps=5, eval_every=5), tmp_path / "run")
    code, out, err = run_cli(["lm", "sample", str(tmp_path / "run"), *args], capsys)
    assert_one_line_error(code, err, fragment)


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "file is empty"),
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary"),
        (b"caf\xe9 au lait\n" * 5, "byte offset 3"),
        (b"too short\n", "too short"),
    ],
)
def test_bad_training_files_exit_2_and_leave_nothing(tmp_path, capsys, content, fragment):
    data = tmp_path / "data.txt"
    data.write_bytes(content)
    out = tmp_path / "out"
    code, _, err = run_cli(["lm", "train", "--data", str(data), "--out", str(out)], capsys)
    assert_one_line_error(code, err, fragment)
    assert not out.exists()


def test_lm_cli_train_eval_sample(text_file, tmp_path, capsys):
    out = tmp_path / "run"
    code, stdout, _ = run_cli(
        [
            "lm",
            "train",
            "--data",
            str(text_file),
            "--out",
            str(out),
            "--steps",
            "30",
            "--hidden",
            "32",
            "--layers",
            "1",
            "--seq-len",
            "20",
            "--batch-size",
            "8",
            "--eval-every",
            "10",
            "--quiet",
            "--device",
            "cpu",
        ],
        capsys,
    )
    assert code == 0, stdout
    code, stdout, _ = run_cli(["lm", "eval", str(out), "--json"], capsys)
    import json

    result = json.loads(stdout)
    assert {"loss_nats", "bpc", "chars"} <= set(result)
    code, stdout, _ = run_cli(
        ["lm", "sample", str(out), "--prime", "the", "--length", "40", "--seed", "3"], capsys
    )
    assert code == 0 and stdout.startswith("the") and len(stdout) == 3 + 40 + 1


def test_seed_preset_is_seed_003(text_file):
    run = lm.build_run({"preset": "seed", "data": str(text_file)})
    assert (run.model.model, run.model.input, run.model.hidden) == ("elman", "scalar", 256)
    assert (run.data.seq_len, run.train.batch_size, run.train.optimizer) == (25, 64, "rmsprop")
    assert (run.train.lr, run.train.grad_clip, run.data.layout) == (1e-3, 3.0, "chunks")


@pytest.mark.parametrize("kind", ["lstm", "gru", "elman"])
def test_single_step_path_matches_the_sequence_forward(kind):
    torch.manual_seed(0)
    model = CharLM(CharLMConfig(vocab_size=11, model=kind, embedding=8, hidden=12, layers=2))
    model.eval()
    ids = torch.randint(0, 11, (3, 9))
    full, full_state = model(ids)
    state = None
    for t in range(ids.shape[1]):
        logits, state = model.step(ids[:, t], state)
        torch.testing.assert_close(logits, full[:, t], rtol=1e-5, atol=1e-6)
    for a, b in zip(
        state if isinstance(state, tuple) else (state,),
        full_state if isinstance(full_state, tuple) else (full_state,),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_a_run_on_the_shipped_corpus_names_it_and_evaluates_from_any_install(tmp_path):
    """config.json records the shipped corpus by name, not by this install's path, so
    `lm eval` works after a reinstall or on another machine."""
    import json

    run = tiny_lm_run(None, steps=2, eval_every=2)
    run.data.data, run.data.eval_max_chars = None, 2000
    lm.train(run, tmp_path / "shipped")
    config_path = tmp_path / "shipped" / "config.json"
    config = json.loads(config_path.read_text())
    assert config["data"]["source"] == lm.SHIPPED_SOURCE
    # a run made by an older rnnlab recorded the path inside its own install
    config["data"]["source"] = "/gone/site-packages/rnnlab/corpora/tinyshakespeare.txt"
    config_path.write_text(json.dumps(config))
    result = lm.evaluate(lm.load(tmp_path / "shipped", device="cpu"))
    assert result["chars"] > 100_000  # the whole validation tenth of Tiny Shakespeare


def test_a_moved_training_file_is_a_one_line_error_that_says_to_pass_data(
    text_file, tmp_path, capsys
):
    lm.train(tiny_lm_run(text_file, steps=2, eval_every=2), tmp_path / "run")
    text_file.rename(tmp_path / "elsewhere.txt")
    code, _, err = run_cli(["lm", "eval", str(tmp_path / "run")], capsys)
    assert_one_line_error(code, err, "pass --data")
    code, out, _ = run_cli(
        ["lm", "eval", str(tmp_path / "run"), "--data", str(tmp_path / "elsewhere.txt")], capsys
    )
    assert code == 0 and "nats/char" in out


# --ema: a moving average of the weights, evaluated and kept in place of the last ones


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


@pytest.mark.parametrize("tied", [False, True])
def test_embedding_init_bounds_the_embedding_and_the_tied_head(tied):
    config = lm.CharLMConfig(vocab_size=60, embedding=256, hidden=256, tie_weights=tied)
    torch.manual_seed(0)
    default = lm.CharLM(config).embed.weight
    assert default.std().item() == pytest.approx(1.0, abs=0.05)  # torch's N(0, 1)
    torch.manual_seed(0)
    model = lm.CharLM(lm.CharLMConfig(**{**config.to_dict(), "embedding_init": 0.1}))
    weight = model.embed.weight
    assert weight.abs().max().item() <= 0.1
    assert weight.std().item() == pytest.approx(0.1 / math.sqrt(3), rel=0.05)  # uniform
    assert (model.head.weight is weight) == tied
    for bad in (-0.1, math.inf, math.nan):
        with pytest.raises(UserError, match="`embedding_init`"):
            lm.CharLMConfig(vocab_size=60, embedding_init=bad)


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
        with pytest.raises(UserError, match="`ema`"):
            lm.TrainConfig(ema=bad)
