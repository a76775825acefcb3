"""`rnnlab serve` on the command line: help without the extra, one-line errors, the warning
off loopback, and the load test's script kept working (a small run of it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import assert_one_line_error, run_cli

ROOT = Path(__file__).resolve().parents[1]


def test_serve_help_needs_no_web_stack():
    code = (
        "import sys\n"
        "from rnnlab.cli import main\n"
        "try:\n"
        "    main(['serve', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('loaded:', 'fastapi' in sys.modules or 'uvicorn' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert (
        "--runs DIR" in out.stdout and "--host HOST" in out.stdout and "--port PORT" in out.stdout
    )
    assert "loaded: False" in out.stdout


def test_serve_without_the_extra_says_how_to_install_it(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn -> ImportError
    code, _, err = run_cli(["serve"], capsys)
    assert_one_line_error(code, err, "pip install 'rnnlab[serve]'")


@pytest.fixture
def no_uvicorn_run(monkeypatch):
    """uvicorn.run recorded instead of serving forever."""
    uvicorn = pytest.importorskip("uvicorn", reason="the serve extra is not installed")
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    return calls


def test_serve_listens_on_loopback_and_answers_only_its_own_host_names(
    capsys, no_uvicorn_run, tmp_path
):
    from .serve_support import free_port

    port = free_port()
    code, _, err = run_cli(["serve", "--runs", str(tmp_path), "--port", str(port)], capsys)
    assert code == 0 and "warning" not in err
    assert f"http://127.0.0.1:{port}/" in err
    app, options = no_uvicorn_run[0]
    assert options == {"host": "127.0.0.1", "port": port, "log_level": "warning"}
    assert "127.0.0.1" in app.allowed_hosts and "localhost" in app.allowed_hosts


def test_another_host_is_served_with_a_warning(capsys, no_uvicorn_run, tmp_path):
    from .serve_support import free_port

    args = ["serve", "--runs", str(tmp_path), "--host", "0.0.0.0", "--port", str(free_port())]
    code, _, err = run_cli(args, capsys)
    assert code == 0 and err.startswith("warning: listening on 0.0.0.0")
    assert no_uvicorn_run[0][0].allowed_hosts is None  # reached by whatever name it has


def test_a_port_in_use_is_a_one_line_error(capsys, no_uvicorn_run, tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli(["serve", "--runs", str(tmp_path), "--port", str(port)], capsys)
    assert_one_line_error(code, err, f"cannot listen on 127.0.0.1:{port}")
    assert not no_uvicorn_run


def test_runs_that_is_a_file_is_a_one_line_error(capsys, no_uvicorn_run, tmp_path):
    (tmp_path / "file").write_text("x")
    code, _, err = run_cli(["serve", "--runs", str(tmp_path / "file")], capsys)
    assert_one_line_error(code, err, "not a directory")


def test_the_load_test_passes_at_a_small_size():
    """benchmarks/web/load_test.py against a real server process, 8 clients x 3 requests:
    every answer a 200 or a designed 503, and the server still up."""
    pytest.importorskip("httpx2", reason="the test extra is not installed")
    sys.path.insert(0, str(ROOT / "benchmarks" / "web"))
    try:
        import load_test
    finally:
        sys.path.pop(0)
    result = load_test.run(clients=8, requests=3, time_bound=120)
    assert result["failures"] == 0, result["failure_examples"]
    assert result["server_alive_after"]
    assert result["all"]["requests"] == 24 and result["all"]["ok"] >= 1
