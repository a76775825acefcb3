"""Data-parallel training (train/distributed.py): two CPU ranks over gloo train exactly what
one process trains, rank 0 alone writes, a run resumes on another number of processes, and
a lost rank ends the others with one line and leaves the last checkpoint whole."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rnnlab import checkpoint as ckpt
from rnnlab.ciphers import get_cipher
from rnnlab.cli import main
from rnnlab.data.batch import IGNORE_INDEX, Batch
from rnnlab.errors import UserError
from rnnlab.train.distributed import Ranks, failure_reason
from tests.distributed_support import (
    child_env,
    finish,
    run_ranks,
    start_ranks,
    torchrun,
    torchrun_command,
    wait_for,
)
from tests.helpers import run_cli

# Float tolerance for two ranks against one process: the gradients are the same sums taken
# in another order (~1e-7 here); one wrong row or a missing average is ~1e-3 and more.
ATOL = 1e-5
# A short collective timeout, so that a hung rank is given up on within the test.
FAULT_ENV = {"RNNLAB_DIST_TIMEOUT": "3"}


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A directory with a small corpus and a pairs file of ragged lines, and a corpus
    cache of its own (the ranks share it, as on one node)."""
    root = tmp_path_factory.mktemp("ddp")
    rng = random.Random(0)
    words = ["the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog"]
    (root / "corpus.txt").write_text(" ".join(rng.choice(words) for _ in range(4000)))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ-"
    cipher = get_cipher("caesar", key="3", alphabet=alphabet)
    lines = []
    for _ in range(120):  # 3 to 40 characters: ranks get different numbers of targets
        plain = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 40)))
        lines.append(f"{plain}\t{cipher.encrypt(plain)}\n")
    (root / "pairs.tsv").write_text("".join(lines))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RNNLAB_CACHE", str(root / "cache"))
        yield root


def lm_args(work: Path, out: str, steps: int) -> list[str]:
    # A constant learning rate: a cosine schedule depends on --steps, which a resume that
    # extends the run changes. fp32: the preset's "auto" is bf16 on some CPUs, whose
    # rounding differs between one process's batch and two ranks' halves of it.
    return [
        *("lm", "train", "--data", str(work / "corpus.txt"), "--out", str(work / out)),
        *("--hidden", "16", "--embedding", "16", "--layers", "2", "--seq-len", "8"),
        *("--batch-size", "4", "--steps", str(steps), "--eval-every", "4", "--dropout", "0"),
        *("--warmup", "0", "--schedule", "constant", "--device", "cpu", "--quiet"),
        *("--precision", "fp32"),
    ]


def decipher_args(work: Path, out: str, extra: list[str]) -> list[str]:
    return [
        *("decipher", "train", "--out", str(work / out), "--steps", "6", "--eval-every", "3"),
        *("--hidden", "16", "--embedding", "8", "--batch-size", "8", "--val-examples", "64"),
        *("--device", "cpu", "--quiet", *extra),
    ]


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = load_file(str(a / ckpt.WEIGHTS)), load_file(str(b / ckpt.WEIGHTS))
    assert wa.keys() == wb.keys()
    for name in wa:
        torch.testing.assert_close(wa[name], wb[name], rtol=0, atol=ATOL, msg=name)


def trainer_state(run: Path) -> dict:
    return torch.load(run / ckpt.TRAINER_STATE, weights_only=True)


def metric_rows(run: Path) -> list[dict]:
    return ckpt.read_metrics(run / ckpt.METRICS)


# -- equivalence ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def lm_runs(work: Path):
    """The same 8-step LM run on 2 ranks (through torchrun) and in one process."""
    launched = torchrun(lm_args(work, "lm-2", steps=8), cwd=work)
    assert launched.code == 0, launched.err
    assert main(lm_args(work, "lm-1", steps=8)) == 0
    return work / "lm-2", work / "lm-1", launched


def test_lm_on_two_ranks_equals_one_process(lm_runs):
    two, one, _ = lm_runs
    assert_same_weights(two, one)


def test_lm_checkpoint_holds_every_streams_carried_state(lm_runs):
    """Each rank carries its own 2 of the 4 streams; the checkpoint joins them."""
    two, one, _ = lm_runs
    joined, alone = trainer_state(two)["task"]["hidden"], trainer_state(one)["task"]["hidden"]
    assert [tuple(t.shape) for t in joined] == [(2, 4, 16), (2, 4, 16)]  # LSTM (h, c)
    for a, b in zip(joined, alone, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=ATOL)


def test_only_rank_zero_writes_metrics_and_they_match_one_process(lm_runs):
    two, one, launched = lm_runs
    rows, reference = metric_rows(two), metric_rows(one)
    keys = [(r["step"], r["split"]) for r in rows]
    assert len(keys) == len(set(keys)), "a row written twice"
    assert keys == [(r["step"], r["split"]) for r in reference]
    # Training loss summed over both ranks' rows; validation sharded over both ranks.
    for got, want in zip(rows, reference, strict=True):
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-5)
    assert [r["chars"] for r in rows if r["split"] == "val"] == [
        r["chars"] for r in reference if r["split"] == "val"
    ]
    assert launched.out.count("saved to") == 1  # one report, rank 0's


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param([], id="caesar-tagger"),
        # caesar keys are one symbol, so every rank's key loss averages as many slots
        pytest.param(["--key-mode", "unknown", "--two-pass"], id="two-pass-unknown-keys"),
        # ragged lines: each rank's mean is weighted by its share of the targets
        pytest.param(["--pairs", "pairs.tsv"], id="ragged-pairs-file"),
    ],
)
def test_decipher_on_two_ranks_equals_one_process(work, extra, request):
    name = request.node.callspec.id
    extra = [str(work / a) if a.endswith(".tsv") else a for a in extra]
    ranks = run_ranks(decipher_args(work, f"{name}-2", extra), cwd=work)
    assert [r.code for r in ranks] == [0, 0], ranks[0].err + ranks[1].err
    assert main(decipher_args(work, f"{name}-1", extra)) == 0
    assert_same_weights(work / f"{name}-2", work / f"{name}-1")
    assert "saved to" in ranks[0].out and ranks[1].out == ""


# -- resume ---------------------------------------------------------------------------


def test_two_rank_run_resumes_in_one_process_exactly(work, lm_runs, capsys):
    ranks = run_ranks(lm_args(work, "lm-half", steps=4), cwd=work)
    assert [r.code for r in ranks] == [0, 0], ranks[0].err + ranks[1].err
    assert trainer_state(work / "lm-half")["world_size"] == 2
    code, _, err = run_cli([*lm_args(work, "lm-half", steps=8), "--resume"], capsys)
    assert code == 0, err
    # Said plainly: the data continue exactly, dropout's draws cannot.
    assert "resumes on 1" in err and "continue exactly" in err
    assert_same_weights(work / "lm-half", lm_runs[1])


def test_a_number_of_ranks_that_does_not_split_the_batch_is_refused():
    with pytest.raises(UserError, match="does not split evenly over 3 ranks"):
        Ranks(rank=0, world=3).check_batch(4)


# -- what a rank's share is -----------------------------------------------------------


def ragged_batch() -> Batch:
    targets = torch.full((4, 6), IGNORE_INDEX)
    for row, length in enumerate((6, 5, 1, 2)):
        targets[row, :length] = 1
    return Batch(torch.zeros(4, 6, dtype=torch.long), targets, torch.tensor([6, 5, 1, 2]))


def test_ranks_weigh_their_mean_loss_by_their_share_of_the_targets():
    """Averaging the ranks' weighted means gives the mean over all targets."""
    batch = ragged_batch()
    losses = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    mask = batch.targets != IGNORE_INDEX
    whole = losses[mask].mean()
    weighted = []
    for rank in range(2):
        ranks = Ranks(rank=rank, world=2)
        ranks.distributed = True  # shard() needs no process group
        part, weight = ranks.shard(batch)
        rows = ranks.rows(4)
        assert torch.equal(part.inputs, batch.inputs[rows])
        assert torch.equal(part.lengths, batch.lengths[rows])
        weighted.append(weight * losses[rows][mask[rows]].mean())
    assert weighted[0] != weighted[1]
    assert float(sum(weighted) / 2) == pytest.approx(float(whole))


def test_a_lost_connection_reads_as_its_reason():
    gloo = RuntimeError(
        "[/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:537] Read error "
        "[127.0.0.1]:20871: Connection reset by peer. This is typically caused by a remote "
        "worker hanging. GLHF!"
    )
    assert failure_reason(gloo) == "Read error [127.0.0.1]:20871: Connection reset by peer"


# -- faults and stops -----------------------------------------------------------------


def long_run(work: Path, out: str) -> list[str]:
    args = lm_args(work, out, steps=100_000)
    args[args.index("--eval-every") + 1] = "5"  # a checkpoint every 5 steps
    return args


def assert_intact_and_resumable(run: Path, capsys) -> int:
    step = trainer_state(run)["step"]
    assert ckpt.weights_step(run) == step > 0
    code, _, err = run_cli([*lm_args(run.parent, run.name, step + 2), "--resume"], capsys)
    assert code == 0, err
    return step


@pytest.mark.parametrize("how", ["killed", "hung"])
def test_a_lost_rank_ends_the_others_with_one_line_and_an_intact_checkpoint(work, how, capsys):
    """Killed: its connections close and rank 0 stops at once. Hung (SIGSTOP): rank 0
    gives up after the collective timeout (3 s here)."""
    out = work / f"lost-{how}"
    procs = start_ranks(long_run(work, out.name), 2, work, FAULT_ENV)
    try:
        wait_for(out / ckpt.TRAINER_STATE, procs)
        procs[1].send_signal(signal.SIGKILL if how == "killed" else signal.SIGSTOP)
        lost_at = time.monotonic()
        survivor = finish(procs[0], timeout=60)
        waited = time.monotonic() - lost_at
    finally:
        for p in procs:
            p.kill()
            p.wait()
    assert survivor.code == 1
    assert survivor.err.startswith("error: rank 0 of 2: lost contact with the other ranks")
    assert survivor.err.count("\n") == 1 and "Traceback" not in survivor.err
    assert "is intact; continue it with --resume" in survivor.err
    if how == "hung":
        assert waited >= 2.5  # it waited for the timeout, and not much longer
    assert waited < 30
    step = assert_intact_and_resumable(out, capsys)
    assert f"the checkpoint of step {step} in {out} is intact" in survivor.err


def test_a_time_budget_ends_every_rank_after_the_same_step(work):
    """Each rank's clock differs; the longest is the one every rank reads. A rank that
    stopped a step early would leave the other waiting in its gradient exchange."""
    args = lm_args(work, "max-time", steps=1)
    at = args.index("--steps")
    args[at : at + 2] = ["--max-time", "0.05"]  # 3 seconds
    ranks = run_ranks(args, cwd=work, env=FAULT_ENV)
    assert [r.code for r in ranks] == [0, 0], ranks[0].err + ranks[1].err
    state = trainer_state(work / "max-time")
    assert state["elapsed_s"] >= 3.0 and state["step"] > 1
    assert ckpt.weights_step(work / "max-time") == state["step"]


def test_ctrl_c_under_torchrun_stops_every_rank_after_the_same_step(work, capsys):
    out = work / "ctrl-c"
    agent = subprocess.Popen(
        torchrun_command(long_run(work, out.name)),
        cwd=work,
        env=child_env(FAULT_ENV),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    try:
        wait_for(out / ckpt.TRAINER_STATE, [agent])
        os.killpg(agent.pid, signal.SIGINT)  # what Ctrl-C sends: every process of the job
        _, err = agent.communicate(timeout=60)
    finally:
        agent.kill()
        agent.wait()
    saved = [line for line in err.splitlines() if line.startswith("interrupted: saved step")]
    assert len(saved) == 1, err  # rank 0's; the ranks stopped together, rank 0 saved
    step = assert_intact_and_resumable(out, capsys)
    assert saved[0].startswith(f"interrupted: saved step {step} ")
    keys = [(r["step"], r["split"]) for r in metric_rows(out)]
    assert len(keys) == len(set(keys))


# -- GPUs (skipped without CUDA) ------------------------------------------------------


@pytest.mark.gpu
def test_lm_on_every_gpu_under_torchrun_equals_one_gpu(work):
    """NCCL for the gradients, gloo beside it for the small exchanges, a GPU per rank."""
    gpus = min(2, torch.cuda.device_count())

    def on_gpu(out: str) -> list[str]:
        args = lm_args(work, out, steps=8)
        args[args.index("--device") + 1] = "cuda"
        return [*args, "--preset", "cpu"]  # the CPU preset's model, in fp32 (no bf16)

    launched = torchrun(on_gpu("gpu-n"), cwd=work, nproc=gpus)
    assert launched.code == 0, launched.err
    assert main(on_gpu("gpu-1")) == 0
    wa = load_file(str(work / "gpu-n" / ckpt.WEIGHTS))
    wb = load_file(str(work / "gpu-1" / ckpt.WEIGHTS))
    for name in wa:  # cuDNN's reductions are not bitwise reproducible: a looser bound
        torch.testing.assert_close(wa[name], wb[name], rtol=0, atol=1e-4, msg=name)
