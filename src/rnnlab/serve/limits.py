"""What keeps one page from taking the machine down: a cap on request bodies, a host check,
and bounded pools of worker threads for the work that uses the CPU.

The event loop only parses, routes and streams; every model forward pass, crack and
cipher call runs in a `WorkerPool`. A pool has a fixed number of threads and a fixed
number of places in its queue: a request that finds both full is answered 503 at once
(`Busy`), so a burst of requests gets quick refusals instead of a growing backlog.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

MAX_BODY_BYTES = 1_000_000  # 1 MB: far above any text the page sends, far below harm
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

T = TypeVar("T")


class Busy(Exception):
    """Every worker is busy and the queue is full: answered 503."""


class WorkerPool:
    """`workers` threads and `queue` waiting places; `run` refuses work beyond both."""

    def __init__(self, name: str, workers: int, queue: int) -> None:
        self.name = name
        self.capacity = workers + queue
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix=f"rnnlab-{name}")
        self._lock = threading.Lock()
        self._taken = 0  # running + waiting; released when the thread finishes, not before

    @property
    def taken(self) -> int:
        return self._taken

    def acquire(self) -> None:
        with self._lock:
            if self._taken >= self.capacity:
                raise Busy(f"the server is busy ({self.name} queue full); try again shortly")
            self._taken += 1

    def release(self) -> None:
        with self._lock:
            self._taken -= 1

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run `fn(*args)` in a worker; the place is held until it returns (a client that
        hangs up does not free a place its work still occupies)."""
        self.acquire()
        try:
            future = self._executor.submit(fn, *args)
        except RuntimeError:  # shut down
            self.release()
            raise Busy("the server is shutting down") from None
        future.add_done_callback(lambda _: self.release())
        return future

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.wrap_future(self.submit(fn, *args))

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


class Guard:
    """ASGI middleware: requests for another host name are refused (a page on some web
    site cannot reach a loopback server through DNS rebinding), and a body over
    `max_body` bytes is answered 413 before the app sees any of it."""

    def __init__(
        self, app: Any, allowed_hosts: tuple[str, ...] | None, max_body: int = MAX_BODY_BYTES
    ) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.max_body = max_body

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if self.allowed_hosts is not None and host_name(headers.get("host", "")) not in (
            self.allowed_hosts
        ):
            await send_json(
                send,
                400,
                "unexpected Host header; open the page by the address rnnlab serve printed",
            )
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await send_json(send, 413, f"request body over {self.max_body} bytes")
            return
        # A chunked body declares no length: read it here, up to the cap, and hand the app
        # the bytes read. Bodies are small, so holding one in memory costs nothing.
        body, more = bytearray(), True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await send_json(send, 413, f"request body over {self.max_body} bytes")
                return
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # after the body: wait for the client to disconnect

        await self.app(scope, replay, send)


def host_name(host: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1'; '[::1]:8000' -> '::1'."""
    if host.startswith("["):
        return host[1 : host.find("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


async def send_json(send: Callable, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
