"""Load test of `rnnlab serve` on loopback: N concurrent clients, each sending M requests
that mix cipher, crack and decrypt calls, against a real server in its own process.

Passes when every answer is a 200 or a designed 503 (queue full), the server still answers
afterwards, and the whole test ends within its time bound. Records p50/p95 latency.

    python benchmarks/web/load_test.py                       # 50 clients x 10 requests
    python benchmarks/web/load_test.py --out benchmarks/web/load.json

Only 127.0.0.1 is ever contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

HOST = "127.0.0.1"
FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "old_checkpoints"
CRACK_TEXT = (  # Caesar, key 7: identified, then broken (about 0.1 s of work)
    "Pa dhz aol ilza vm aptlz, pa dhz aol dvyza vm aptlz, pa dhz aol hnl vm dpzkvt, "
    "pa dhz aol hnl vm mvvspzoulzz, pa dhz aol lwvjo vm ilsplm."
)
# Each client cycles through these: half cheap cipher calls, a quarter each of the two
# calls that keep a worker busy.
MIX = ("cipher", "crack", "cipher", "decrypt")


def request_for(kind: str, n: int) -> tuple[str, dict[str, Any]]:
    if kind == "cipher":
        return "/api/cipher", {"op": "encrypt", "cipher": "caesar", "text": f"MESSAGE-{n}"}
    if kind == "crack":
        return "/api/crack", {"text": CRACK_TEXT, "time_limit": 10}
    return "/api/runs/seed_tagger/decrypt", {"text": "FUVEMVEMNMERPDRF"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(runs: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "rnnlab", "serve", "--runs", str(runs), "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://{HOST}:{port}/api/health", timeout=1).status_code == 200:
                return server
        except httpx2.TransportError:
            time.sleep(0.2)
        if server.poll() is not None:
            raise RuntimeError(f"server exited: {server.stdout.read().decode()}")
    server.kill()
    raise RuntimeError("server did not start within 60 s")


async def client(
    http: httpx2.AsyncClient, index: int, requests: int, results: list[dict[str, Any]]
) -> None:
    for i in range(requests):
        kind = MIX[(index + i) % len(MIX)]
        path, body = request_for(kind, index * requests + i)
        started = time.perf_counter()
        try:
            response = await http.post(path, json=body)
            status, ok = response.status_code, response.status_code == 200
            if ok and kind == "decrypt":
                ok = response.json() == {"text": "THIS-IS-A-SECRET"}
            elif ok and kind == "crack":
                ok = response.json()["key"] == 7
        except httpx2.HTTPError as e:  # a hang or a dropped connection: a failure
            status, ok = type(e).__name__, False
        results.append(
            {"kind": kind, "status": status, "ok": ok, "ms": (time.perf_counter() - started) * 1e3}
        )


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    def stats(rows: list[dict[str, Any]]) -> dict[str, Any]:
        served = [r["ms"] for r in rows if r["status"] == 200]
        return {
            "requests": len(rows),
            "ok": sum(r["ok"] for r in rows),
            "refused_503": sum(r["status"] == 503 for r in rows),
            "p50_ms": percentile(served, 0.50),
            "p95_ms": percentile(served, 0.95),
            "max_ms": percentile(served, 1.0),
        }

    by_status: dict[str, int] = {}
    for r in results:
        by_status[str(r["status"])] = by_status.get(str(r["status"]), 0) + 1
    failures = [r for r in results if not r["ok"] and r["status"] != 503]
    return {
        "all": stats(results),
        "by_kind": {k: stats([r for r in results if r["kind"] == k]) for k in sorted(set(MIX))},
        "by_status": by_status,
        "failures": len(failures),
        "failure_examples": failures[:5],
    }


async def load(base: str, clients: int, requests: int, time_bound: float) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    limits = httpx2.Limits(max_connections=clients)
    timeout = httpx2.Timeout(time_bound)
    async with httpx2.AsyncClient(base_url=base, limits=limits, timeout=timeout) as http:
        started = time.perf_counter()
        await asyncio.wait_for(
            asyncio.gather(*(client(http, i, requests, results) for i in range(clients))),
            time_bound,
        )
        wall = time.perf_counter() - started
        alive = (await http.get("/api/health")).status_code == 200
    return summarize(results) | {"wall_s": round(wall, 2), "server_alive_after": alive}


def machine() -> dict[str, Any]:
    import torch

    import rnnlab

    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_avg_1m_before": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "rnnlab": rnnlab.__version__,
        "os": platform.platform(),
    }


def run(clients: int = 50, requests: int = 10, time_bound: float = 300.0) -> dict[str, Any]:
    """Serve a copy of the seed-task fixture run, load it, stop the server."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        shutil.copytree(FIXTURES / "seed_tagger", runs / "seed_tagger")
        port = free_port()
        info = machine()
        server = start_server(runs, port)
        try:
            result = asyncio.run(load(f"http://{HOST}:{port}", clients, requests, time_bound))
        finally:
            server.terminate()
            server.wait(30)
    return {"clients": clients, "requests_per_client": requests, **result, "machine": info}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=10, help="requests per client")
    parser.add_argument("--time-bound", type=float, default=300.0, help="seconds, at most")
    parser.add_argument("--out", default=None, help="write the result JSON here")
    args = parser.parse_args()
    result = run(args.clients, args.requests, args.time_bound)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    passed = result["failures"] == 0 and result["server_alive_after"]
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
