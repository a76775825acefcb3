"""The web API over trained runs: the list, metrics, decrypt, streamed samples, training
jobs started and stopped from the page, and run names that try to leave --runs."""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from rnnlab import checkpoint as ckpt  # noqa: E402
from rnnlab import decipher, lm  # noqa: E402
from rnnlab.errors import UserError  # noqa: E402
from rnnlab.serve import create_app  # noqa: E402
from rnnlab.serve.limits import WorkerPool  # noqa: E402
from rnnlab.serve.state import ServeState  # noqa: E402

from .serve_support import LiveServer, make_runs  # noqa: E402
from .test_serve_api import assert_error  # noqa: E402

# Small enough to train in a second or two on one core; the web's options are the CLI's.
TINY_DECIPHER = {
    "task": "decipher",
    "hidden": 16,
    "embedding": 8,
    "seq_len": 12,
    "batch_size": 8,
    "val_examples": 50,
    "device": "cpu",
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return make_runs(tmp_path_factory.mktemp("served") / "runs")


@pytest.fixture
def client(runs):
    with TestClient(create_app(runs)) as c:
        yield c


@pytest.fixture
def fresh(tmp_path):
    """A client over an empty runs directory of its own, for training."""
    with TestClient(create_app(tmp_path / "runs")) as c:
        yield c, tmp_path / "runs"


def wait_for(condition, seconds: float = 60.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


# -- listing and reading runs -------------------------------------------------------


def test_the_list_has_every_run_with_task_size_step_and_best(client, runs):
    listed = {r["name"]: r for r in client.get("/api/runs").json()}
    assert sorted(listed) == ["curves", "seed_tagger", "tiny_lm", "twopass", "vigenere_given"]
    assert listed["tiny_lm"]["task"] == "lm" and listed["tiny_lm"]["architecture"] == "charlm"
    assert listed["twopass"]["names_key"] and listed["vigenere_given"]["needs_key"]
    curves = listed["curves"]
    rows = ckpt.read_metrics(runs / "curves" / ckpt.METRICS)
    best = max((r for r in rows if r["split"] == "val"), key=lambda r: r["accuracy"])
    assert curves["best"] == {"metric": "accuracy", "value": best["accuracy"], "step": best["step"]}
    assert curves["step"] == 20 and curves["steps"] == 20 and not curves["training"]
    assert curves["parameters"] == sum(
        p.numel() for p in decipher.load(runs / "curves").model.parameters()
    )
    assert listed["seed_tagger"]["step"] == ckpt.weights_step(
        runs / "seed_tagger"
    )  # no metrics file


def test_a_run_shows_its_config_and_latest_records(client, runs):
    got = client.get("/api/runs/curves").json()
    assert got["config"] == ckpt.read_config(runs / "curves")
    rows = ckpt.read_metrics(runs / "curves" / ckpt.METRICS)
    assert got["latest"]["val"] == [r for r in rows if r["split"] == "val"][-1]
    assert got["latest"]["train"] == [r for r in rows if r["split"] == "train"][-1]


def test_metrics_are_the_rows_of_metrics_jsonl_and_since_skips_those_seen(client, runs):
    rows = ckpt.read_metrics(runs / "curves" / ckpt.METRICS)
    assert client.get("/api/runs/curves/metrics").json() == rows
    assert client.get("/api/runs/curves/metrics?since=3").json() == rows[3:]
    assert client.get(f"/api/runs/curves/metrics?since={len(rows)}").json() == []
    assert_error(client.get("/api/runs/curves/metrics?since=-1"), 422, "since")


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/nothing",
        "/api/runs/..",
        "/api/runs/%2E%2E",
        "/api/runs/..%2Fserved",
        "/api/runs/%2Fetc",
        "/api/runs/.hidden",
        "/api/runs/..%2F..%2F..%2Fetc%2Fpasswd/metrics",
    ],
)
def test_names_that_leave_the_runs_directory_or_name_nothing_are_404(client, path):
    assert client.get(path).status_code == 404
    assert "error" in client.get(path).json()


def test_a_symlink_out_of_the_runs_directory_is_refused(tmp_path):
    outside = tmp_path / "outside"
    shutil.copytree(make_runs(tmp_path / "source") / "seed_tagger", outside)
    runs = tmp_path / "runs"
    runs.mkdir()
    os.symlink(outside, runs / "escape")
    inside = runs / "leaky"
    shutil.copytree(outside, inside)
    (inside / "metrics.jsonl").symlink_to(tmp_path / "secret.jsonl")
    (tmp_path / "secret.jsonl").write_text(json.dumps({"step": 1, "secret": True}) + "\n")
    os.symlink(runs / "loop", runs / "loop")
    with TestClient(create_app(runs)) as c:
        assert c.get("/api/runs").json() == []
        for name in ("escape", "leaky", "loop"):
            assert_error(c.get(f"/api/runs/{name}/metrics"), 404, "link")
            decrypt = c.post(f"/api/runs/{name}/decrypt", json={"text": "FUVEMVEMNMERPDRF"})
            assert_error(decrypt, 404)


# -- decrypt ---------------------------------------------------------------------------


def test_decrypt_the_seed_example_with_the_seed_task_run(client):
    got = client.post("/api/runs/seed_tagger/decrypt", json={"text": "FUVEMVEMNMERPDRF"})
    assert got.json() == {"text": "THIS-IS-A-SECRET"}


def test_decrypt_goes_line_by_line_keeping_the_breaks(client, runs):
    loaded = decipher.load(runs / "seed_tagger")
    text = "FUVEMVEMNMERPDRF\r\nNOP\n\nFUV"
    want = "\r\n".join(
        [decipher.decrypt(loaded, "FUVEMVEMNMERPDRF"), decipher.decrypt(loaded, "NOP")]
    )
    want += "\n\n" + decipher.decrypt(loaded, "FUV")
    assert client.post("/api/runs/seed_tagger/decrypt", json={"text": text}).json()["text"] == want


def test_a_given_key_run_needs_the_key_and_uses_it(client, runs):
    assert_error(
        client.post("/api/runs/vigenere_given/decrypt", json={"text": "LXFOPVEFRNHR"}), 400, "key"
    )
    loaded = decipher.load(runs / "vigenere_given")
    got = client.post(
        "/api/runs/vigenere_given/decrypt", json={"text": "LXFOPVEFRNHR", "key": "LEMON"}
    )
    assert got.json() == {"text": decipher.decrypt(loaded, "LXFOPVEFRNHR", key="LEMON")}


def test_a_two_pass_run_also_names_the_key(client, runs):
    loaded = decipher.load(runs / "twopass")
    got = client.post("/api/runs/twopass/decrypt", json={"text": "LXFOPVEFRNHR"}).json()
    assert got["key"] == decipher.named_key(loaded, "LXFOPVEFRNHR")
    assert got["text"] == decipher.decrypt(loaded, "LXFOPVEFRNHR")


@pytest.mark.parametrize(
    "name, body, status, fragment",
    [
        ("seed_tagger", {"text": "fuv"}, 400, "'f' (U+0066) never appeared in training"),
        ("seed_tagger", {"text": "FUV", "key": "3"}, 400, "takes no"),
        ("tiny_lm", {"text": "FUV"}, 400, "'lm' run"),
        ("nothing", {"text": "FUV"}, 404, "no run named"),
        ("seed_tagger", {"txt": "FUV"}, 422, "text"),
    ],
)
def test_bad_decrypt_requests_are_one_line_json_errors(client, name, body, status, fragment):
    assert_error(client.post(f"/api/runs/{name}/decrypt", json=body), status, fragment)


# -- sample (streamed) -----------------------------------------------------------------


def test_a_sample_streams_what_lm_sample_draws(client, runs):
    loaded = lm.load(runs / "tiny_lm")
    want = "".join(lm.sample(loaded, "T", 120, 0.8, 0, 1.0, 7))
    body = {"prime": "T", "length": 120, "seed": 7}
    with client.stream("POST", "/api/runs/tiny_lm/sample", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        got = "".join(response.iter_text())
    assert got == want and len(got) == 120


def test_a_sample_of_length_zero_is_empty(client):
    assert client.post("/api/runs/tiny_lm/sample", json={"length": 0}).text == ""


@pytest.mark.parametrize(
    "name, body, status, fragment",
    [
        ("tiny_lm", {"prime": "é"}, 400, "'é' (U+00E9) is not in the model's vocabulary"),
        ("tiny_lm", {"temperature": -1}, 400, "Temperature must be >= 0"),
        ("tiny_lm", {"top_p": 0}, 400, "Top p must be in (0, 1]"),
        ("tiny_lm", {"length": 10**6}, 422, "length"),
        ("seed_tagger", {}, 400, "'decipher' run"),
        ("nothing", {}, 404, "no run named"),
    ],
)
def test_bad_sample_requests_fail_before_any_text(client, name, body, status, fragment):
    assert_error(client.post(f"/api/runs/{name}/sample", json=body), status, fragment)


def test_a_failure_mid_stream_ends_the_stream_instead_of_hanging(client, monkeypatch):
    def breaks(*args, **kwargs):
        yield "a"
        yield "b"
        raise RuntimeError("a bug")

    monkeypatch.setattr(lm, "sample", breaks)
    response = client.post("/api/runs/tiny_lm/sample", json={"length": 50})
    assert response.status_code == 200 and response.text == "ab"


def test_a_client_hanging_up_frees_the_worker_of_its_stream(runs, monkeypatch):
    import httpx2

    real_sample = lm.sample

    def slow(*args, **kwargs):  # a big model: each character takes a while to draw
        for ch in real_sample(*args, **kwargs):
            time.sleep(0.01)
            yield ch

    monkeypatch.setattr(lm, "sample", slow)
    state = ServeState.for_runs(runs, heavy=WorkerPool("model", 1, 0))
    with LiveServer(create_app(runs, state=state)) as server, httpx2.Client() as http:
        body = {"prime": "T", "length": 20_000}
        with http.stream("POST", f"{server.url}/api/runs/tiny_lm/sample", json=body) as response:
            first = next(response.iter_text())
            assert first and state.heavy.taken == 1
            busy = http.post(f"{server.url}/api/runs/tiny_lm/sample", json=body)
            assert busy.status_code == 503  # the one worker is drawing for the first client
        wait_for(lambda: state.heavy.taken == 0, 10)  # hung up: the drawing stopped
        again = http.post(f"{server.url}/api/runs/tiny_lm/sample", json={"length": 5})
        assert again.status_code == 200 and len(again.text) == 5


# -- training ------------------------------------------------------------------------------


def test_train_the_seed_task_from_the_api_and_decrypt_with_it(fresh):
    client, runs = fresh
    started = client.post("/api/train", json=TINY_DECIPHER | {"steps": 30, "eval_every": 10})
    name = started.json()["name"]
    assert name == "decipher-caesar"
    job = wait_for(
        lambda: (s := client.get("/api/train").json()["job"])["state"] != "running" and s
    )
    assert job == job | {"name": name, "state": "done", "step": 30, "steps": 30, "error": None}
    assert client.get("/api/runs/decipher-caesar/metrics").json() == ckpt.read_metrics(
        runs / name / ckpt.METRICS
    )
    loaded = decipher.load(runs / name)
    got = client.post(f"/api/runs/{name}/decrypt", json={"text": "FUVEMVEMNMERPDRF"}).json()
    assert got["text"] == decipher.decrypt(loaded, "FUVEMVEMNMERPDRF")
    second = client.post("/api/train", json=TINY_DECIPHER | {"steps": 2, "eval_every": 2})
    assert second.json()["name"] == "decipher-caesar-2"  # never on top of a run


def test_one_job_at_a_time_live_metrics_and_stop_saves_like_ctrl_c(fresh):
    client, runs = fresh
    # eval_every beyond the run: nothing reaches metrics.jsonl until the stop saves
    body = TINY_DECIPHER | {"steps": 100_000, "eval_every": 100_000}
    name = client.post("/api/train", json=body).json()["name"]
    assert_error(client.post("/api/train", json=body), 409, "is training")
    rows = wait_for(lambda: client.get(f"/api/runs/{name}/metrics").json(), 60)
    assert rows[0]["split"] == "train" and not (runs / name / ckpt.METRICS).exists()
    listed = {r["name"]: r for r in client.get("/api/runs").json()}
    assert listed[name]["training"] and listed[name]["task"] == "decipher"
    stopped = client.post(f"/api/train/{name}/stop").json()
    assert stopped["state"] == "stopped" and stopped["step"] > 0
    assert ckpt.weights_step(runs / name) == stopped["step"]
    saved = ckpt.read_metrics(runs / name / ckpt.METRICS)
    assert saved[: len(rows)] == rows  # what the page drew live is what was saved
    assert client.get(f"/api/runs/{name}/metrics").json() == saved
    assert_error(client.post(f"/api/train/{name}/stop"), 409, "not training")
    assert_error(client.post("/api/train/nothing/stop"), 404)


def test_train_a_short_language_model(fresh):
    client, runs = fresh
    body = {"task": "lm", "steps": 4, "hidden": 16, "layers": 1, "seq_len": 16, "batch_size": 4}
    name = client.post("/api/train", json=body | {"eval_every": 2, "device": "cpu"}).json()["name"]
    assert name == "lm-tinyshakespeare"
    wait_for(lambda: client.get("/api/train").json()["job"]["state"] == "done", 120)
    rows = client.get(f"/api/runs/{name}/metrics").json()
    assert [r["step"] for r in rows if r["split"] == "val"] == [2, 4]
    assert client.get("/api/runs").json()[0]["best"]["metric"] == "bpc"
    assert len(client.post(f"/api/runs/{name}/sample", json={"length": 10}).text) == 10


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({"task": "decipher", "stepz": 3}, 422, "stepz: Extra inputs are not permitted"),
        # options that name a file on the server are not the page's
        ({"task": "decipher", "pairs": "/etc/passwd"}, 422, "Pairs: Extra inputs"),
        ({"task": "lm", "data": "/etc/passwd"}, 422, "Data: Extra inputs"),
        ({"task": "decipher", "plaintext": "/etc/passwd"}, 422, "Plaintext: Input should be"),
        ({"task": "decipher", "steps": "many"}, 422, "Steps: Input should be a valid integer"),
        ({"task": "decipher", "steps": True}, 422, "Steps: Input should be a valid integer"),
        ({"task": "decipher", "steps": 10**12}, 422, "Steps: Input should be less than or"),
        ({"task": "decipher", "hidden": 2**31}, 422, "Hidden units: Input should be less"),
        ({"task": "decipher", "lr": 1e30}, 422, "Learning rate: Input should be less"),
        ({"task": "decipher", "steps": 0}, 422, "Steps: Input should be greater than"),
        # a given option the architecture does not take, whatever its value
        ({"task": "decipher", "key_mode": "given", "layers": 2}, 400, "Layers is not an option"),
        ({"task": "decipher", "key_mode": "given", "layers": 1}, 400, "Layers is not an option"),
        ({"task": "decipher", "arch": "twopass", "feedback": 4}, 400, "Feedback window is"),
        ({"task": "lm", "hidden": "wide"}, 422, "Hidden units: Input should be"),
        ({"task": "lm", "steps": 10, "max_time": 1}, 400, "Steps and Minutes exclude each"),
        ({"task": "lm", "temperature": 1}, 422, "temperature"),
        ({"task": "chess"}, 422, "task"),
    ],
)
def test_bad_training_requests_start_nothing(fresh, body, status, fragment):
    client, runs = fresh
    assert_error(client.post("/api/train", json=body), status, fragment)
    assert client.get("/api/train").json() == {"job": None}
    assert not runs.exists()


def test_a_failure_inside_training_is_reported_on_the_job(fresh, monkeypatch):
    client, runs = fresh

    def refuse(*args, **kwargs):
        raise UserError("the data source is gone")

    monkeypatch.setattr(decipher, "train", refuse)
    client.post("/api/train", json=TINY_DECIPHER | {"steps": 2})
    job = wait_for(
        lambda: (s := client.get("/api/train").json()["job"])["state"] != "running" and s
    )
    assert job["state"] == "failed" and job["error"] == "the data source is gone"


def test_stopping_the_server_stops_and_saves_its_job(tmp_path):
    app = create_app(tmp_path)
    with TestClient(app) as client:
        name = client.post("/api/train", json=TINY_DECIPHER | {"steps": 100_000}).json()["name"]
        wait_for(lambda: client.get("/api/train").json()["job"]["step"] > 0)
    assert ckpt.weights_step(tmp_path / name) > 0  # saved on the way out
