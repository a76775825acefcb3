"""The web API without a model: health, ciphers, crack, the page, and the rules every
response keeps (JSON errors of one line, body and host limits, a full queue is a 503)."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the serve extra is not installed")

from fastapi.testclient import TestClient  # noqa: E402

import rnnlab  # noqa: E402
from rnnlab.ciphers import LATIN, cipher_names, get_cipher  # noqa: E402
from rnnlab.crack import crack  # noqa: E402
from rnnlab.serve import create_app  # noqa: E402
from rnnlab.serve.limits import MAX_BODY_BYTES, WorkerPool  # noqa: E402
from rnnlab.serve.state import ServeState  # noqa: E402

STATIC = Path(rnnlab.__file__).parent / "serve" / "static"
CAESAR_3 = "WKLV LV D VHFUHW PHVVDJH"  # THIS IS A SECRET MESSAGE


@pytest.fixture
def client(tmp_path):
    with TestClient(create_app(tmp_path)) as c:
        yield c


def assert_error(response, status: int, fragment: str = "") -> None:
    """A JSON {"error": one line} naming the problem, and no traceback."""
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"]
    assert "\n" not in body["error"] and "Traceback" not in body["error"]
    assert not re.search(r"--[a-z]", body["error"]), body["error"]  # the page's words, no flags
    assert fragment in body["error"]


def test_health_says_ok_and_the_version(client):
    assert client.get("/api/health").json() == {"ok": True, "version": rnnlab.__version__}


def test_the_cipher_list_has_every_registered_family_with_its_key_help(client):
    listed = {c["name"]: c for c in client.get("/api/ciphers").json()}
    assert sorted(listed) == cipher_names()
    assert listed["caesar"]["alphabet"] == LATIN  # the classical cipher; the seed's is an option
    assert listed["caesar"]["key_help"] == "optional; default 13"
    assert listed["atbash"]["key_help"] == "no key"
    assert "key word" in listed["vigenere"]["key_help"]
    assert "--key" not in listed["vigenere"]["key_help"]  # the page has no flags
    assert all(c["description"] for c in listed.values())


def test_cipher_encrypts_the_seed_example_and_decrypts_it_back(client):
    seed = {"cipher": "caesar", "alphabet": "ABCDEFGHIJKLMNOPQRSTUVWXYZ-"}
    enc = client.post("/api/cipher", json=seed | {"op": "encrypt", "text": "THIS-IS-A-SECRET"})
    assert enc.json() == {"text": "FUVEMVEMNMERPDRF"}
    dec = client.post("/api/cipher", json=seed | {"op": "decrypt", "text": "FUVEMVEMNMERPDRF"})
    assert dec.json() == {"text": "THIS-IS-A-SECRET"}


def test_cipher_takes_a_key_and_an_alphabet_as_the_library_does(client):
    body = {"op": "encrypt", "cipher": "vigenere", "key": "LEMON", "alphabet": LATIN}
    got = client.post("/api/cipher", json=body | {"text": "Attack at dawn!"}).json()["text"]
    assert got == get_cipher("vigenere", key="LEMON", alphabet=LATIN).encrypt("Attack at dawn!")
    shifted = client.post(
        "/api/cipher", json={"op": "encrypt", "cipher": "caesar", "key": 3, "text": "ABC"}
    )
    assert shifted.json() == {"text": "DEF"}


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({"op": "encrypt", "cipher": "nope", "text": "x"}, 400, "unknown cipher 'nope'"),
        ({"op": "encrypt", "cipher": "affine", "key": "2,3", "text": "x"}, 400, "affine"),
        ({"op": "encrypt", "cipher": "vigenere", "key": "L3MON", "text": "x"}, 400, "'3'"),
        ({"op": "rotate", "cipher": "caesar", "text": "x"}, 422, "op"),
        ({"op": "encrypt", "cipher": "caesar"}, 422, "text"),
        ({"op": "encrypt", "cipher": "caesar", "text": 5}, 422, "text"),
        ({"op": "encrypt", "cipher": "caesar", "text": "x", "kee": 3}, 422, "kee"),
    ],
)
def test_bad_cipher_requests_are_one_line_json_errors(client, body, status, fragment):
    assert_error(client.post("/api/cipher", json=body), status, fragment)


def test_malformed_json_is_a_400(client):
    response = client.post(
        "/api/cipher", content=b'{"op": "encrypt",', headers={"content-type": "application/json"}
    )
    assert_error(response, 400, "malformed JSON")


def test_unknown_routes_and_methods_answer_json(client):
    assert_error(client.get("/api/nothing"), 404)
    assert_error(client.get("/api/cipher"), 405)


def test_crack_answers_what_rnnlab_crack_json_prints(client):
    got = client.post("/api/crack", json={"text": CAESAR_3, "cipher": "caesar"}).json()
    assert got == crack(CAESAR_3, cipher="caesar").to_json()
    assert got["key"] == 3 and got["plaintext"] == "THIS IS A SECRET MESSAGE"


def test_crack_identifies_the_family_when_none_is_named(client):
    text = get_cipher("caesar", key=7, alphabet=LATIN).encrypt(
        "It was the best of times, it was the worst of times, it was the age of wisdom"
    )
    got = client.post("/api/crack", json={"text": text}).json()
    assert got["identified"]["family"] == "caesar" and got["key"] == 7
    assert got["plaintext"].startswith("It was the best of times")


@pytest.mark.parametrize(
    "body, status, fragment",
    [
        ({"text": "WKLV"}, 400, "too short"),
        ({"text": CAESAR_3, "cipher": "enigma"}, 400, "no classical attack"),
        ({"text": CAESAR_3, "cipher": "nope"}, 400, "unknown cipher"),
        ({"text": CAESAR_3, "time_limit": 3600}, 422, "time_limit"),
        ({"text": CAESAR_3, "time_limit": 0}, 422, "time_limit"),
    ],
)
def test_bad_crack_requests_are_one_line_json_errors(client, body, status, fragment):
    assert_error(client.post("/api/crack", json=body), status, fragment)


# -- limits ---------------------------------------------------------------------------


def test_a_body_over_one_megabyte_is_refused_with_413(client):
    text = "A" * MAX_BODY_BYTES
    response = client.post("/api/cipher", json={"op": "encrypt", "cipher": "caesar", "text": text})
    assert_error(response, 413, "over 1000000 bytes")


def test_a_chunked_body_over_the_limit_is_refused_too(client):
    def chunks():  # no Content-Length: the server must count
        for _ in range(11):
            yield b"A" * 100_000

    assert_error(client.post("/api/cipher", content=chunks()), 413)


def test_a_body_under_the_limit_is_served(client):
    text = "A" * (MAX_BODY_BYTES - 1000)
    response = client.post("/api/cipher", json={"op": "encrypt", "cipher": "caesar", "text": text})
    assert response.status_code == 200 and len(response.json()["text"]) == len(text)


def test_a_full_queue_answers_503_at_once_and_serves_again_when_free(tmp_path):
    state = ServeState.for_runs(tmp_path, heavy=WorkerPool("model", 1, 0))
    release = threading.Event()
    with TestClient(create_app(tmp_path, state=state)) as c:
        state.heavy.submit(release.wait, 30)  # the one worker, busy
        response = c.post("/api/crack", json={"text": CAESAR_3, "cipher": "caesar"})
        assert_error(response, 503, "busy")
        assert response.headers["retry-after"] == "1"
        release.set()
        for _ in range(100):  # the place frees once the worker returns
            if state.heavy.taken == 0:
                break
            threading.Event().wait(0.02)
        assert c.post("/api/crack", json={"text": CAESAR_3, "cipher": "caesar"}).status_code == 200


def test_requests_for_another_host_name_are_refused_on_loopback(tmp_path):
    app = create_app(tmp_path, allowed_hosts=("127.0.0.1", "localhost"))
    with TestClient(app, base_url="http://localhost:8000") as c:
        assert c.get("/api/health").status_code == 200
        assert_error(c.get("/api/health", headers={"host": "evil.example"}), 400, "Host")


def test_a_bug_is_a_500_without_its_traceback(tmp_path, monkeypatch):
    from rnnlab.serve import api

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(api, "get_cipher", broken)
    with TestClient(create_app(tmp_path), raise_server_exceptions=False) as c:
        response = c.post("/api/cipher", json={"op": "encrypt", "cipher": "caesar", "text": "x"})
    assert_error(response, 500, "internal error (RuntimeError)")
    assert "secret internals" not in response.text


# -- the page -------------------------------------------------------------------------


def test_the_page_is_served_with_a_policy_that_allows_nothing_from_elsewhere(client):
    response = client.get("/")
    assert response.status_code == 200 and "<title>rnnlab</title>" in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]
    for name in ("app.js", "api.js", "plot.js", "runs.js", "use.js", "train.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200, name


def test_the_page_fetches_nothing_from_the_network():
    """No CDN, no web fonts: no file of the page names another origin."""
    files = list(STATIC.iterdir())
    assert {p.suffix for p in files} >= {".html", ".js", ".css"}
    for path in files:
        text = path.read_text()
        for marker in ("http://", "https://", "//cdn", "@import", "url("):
            if marker in text and not (path.suffix == ".svg" and "www.w3.org/2000/svg" in text):
                raise AssertionError(f"{path.name} refers to {marker}")


def test_the_api_is_documented_in_openapi(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/health",
        "/api/ciphers",
        "/api/cipher",
        "/api/crack",
        "/api/runs",
        "/api/runs/{name}",
        "/api/runs/{name}/metrics",
        "/api/runs/{name}/decrypt",
        "/api/runs/{name}/sample",
        "/api/train",
        "/api/train/{name}/stop",
    ):
        assert path in paths, path


def test_the_api_docs_page_loads_nothing_from_elsewhere(client):
    """/docs documents the API with its Swagger UI served by this server, so it works with
    no network, like the page."""
    import re

    html = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets and all(a.startswith("/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200
    assert "/api/crack" in client.get("/openapi.json").json()["paths"]
