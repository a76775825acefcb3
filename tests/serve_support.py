"""What the web tests share: a runs directory to serve, and a real server on loopback."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "old_checkpoints"
# seed_tagger decrypts FUVEMVEMNMERPDRF to THIS-IS-A-SECRET (tests/test_old_checkpoints.py)
SERVED_FIXTURES = ("seed_tagger", "tiny_lm", "twopass", "vigenere_given")


def make_runs(root: Path) -> Path:
    """A runs directory: the committed fixture runs, and one tiny run trained here so that
    there is a metrics.jsonl to draw."""
    from rnnlab import decipher
    from tests.helpers import tiny_run

    root.mkdir(parents=True, exist_ok=True)
    for name in SERVED_FIXTURES:
        shutil.copytree(FIXTURES / name, root / name)
    decipher.train(tiny_run(20), root / "curves")
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving `app` on 127.0.0.1 in a thread, for clients that need a real socket
    (a browser, a stream the client hangs up on)."""

    def __init__(self, app) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)
