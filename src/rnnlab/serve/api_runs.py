"""The API for trained runs: list, inspect, metrics, decrypt, sample (streamed), and
training jobs. Each route calls the library function the matching CLI command calls."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from rnnlab.serve.runs import NotFound, progress
from rnnlab.serve.schemas import (
    SAMPLE_SECONDS,
    DecryptRequest,
    DecryptResponse,
    SampleRequest,
)
from rnnlab.serve.state import State
from rnnlab.serve.train_schema import TrainRequest, form_description, given

router = APIRouter(prefix="/api")
log = logging.getLogger("rnnlab.serve")
FLUSH_S = 0.05  # a streamed sample goes out in pieces at most this far apart


def job_rows(st: State, name: str) -> list[dict[str, Any]] | None:
    """The live records of a run this server is training (metrics.jsonl lags them)."""
    job = st.jobs.get(name)
    return list(job.records) if job is not None and job.running else None


def summary(st: State, name: str) -> dict[str, Any]:
    job = st.jobs.get(name)
    training = job is not None and job.running
    try:
        row = st.store.summary(name)
    except NotFound:
        if not training:
            raise
        # training, not saved yet: no config.json to describe it
        row = {"name": name, "task": job.task, "architecture": None, "size": None}
        row |= {"parameters": None, "step": 0, "steps": job.total_steps, "best": None}
    if training:
        row |= {"step": job.step, "steps": job.total_steps}
        if row.get("task"):
            row["best"] = progress({"task": job.task}, job.records)["best"]
    return row | {"training": training}


@router.get("/runs")
async def list_runs(st: State) -> list[dict[str, Any]]:
    def work() -> list[dict[str, Any]]:
        names = set(st.store.names())
        job = st.jobs.job
        if job is not None and job.running:
            names.add(job.name)
        return [summary(st, name) for name in sorted(names)]

    return await st.light.run(work)


@router.get("/runs/{name}")
async def get_run(name: str, st: State) -> dict[str, Any]:
    """The run's config.json, its list row, and its latest train and val records."""

    def work() -> dict[str, Any]:
        row = summary(st, name)
        rows = job_rows(st, name)
        if rows is None:
            rows = st.store.metrics(name)
        try:
            config = st.store.config(name)
        except NotFound:  # training, before its first save
            config = None
        latest = {
            split: next((r for r in reversed(rows) if r.get("split") == split), None)
            for split in ("train", "val")
        }
        return {"name": name, "config": config, "summary": row, "latest": latest}

    return await st.light.run(work)


@router.get("/runs/{name}/metrics")
async def run_metrics(
    name: str, st: State, since: Annotated[int, Query(ge=0)] = 0
) -> list[dict[str, Any]]:
    """The rows of metrics.jsonl from row `since` on (a run this server is training: also
    those logged since its last save)."""

    def work() -> list[dict[str, Any]]:
        rows = job_rows(st, name)
        if rows is None:
            rows = st.store.metrics(name)
        return rows[since:]

    return await st.light.run(work)


@router.post(
    "/runs/{name}/decrypt", response_model=DecryptResponse, response_model_exclude_none=True
)
async def decrypt_text(name: str, body: DecryptRequest, st: State) -> DecryptResponse:
    """Line by line, as `rnnlab decipher run` does; a two-pass model also names each
    line's key."""
    from rnnlab import decipher

    def work() -> DecryptResponse:
        loaded = st.store.load(name, "decipher")
        key = None if body.key is None else str(body.key)
        decipher.key_tensors(loaded, key)  # a missing or unneeded key fails even on ""
        out, keys = [], []
        for line in body.text.splitlines(keepends=True) or [""]:
            text = line.rstrip("\r\n")
            out.append(decipher.decrypt(loaded, text, key=key) + line[len(text) :])
            if loaded.model.names_keys:
                keys.append(decipher.named_key(loaded, text) if text else None)
        if not loaded.model.names_keys:
            return DecryptResponse(text="".join(out))
        first = next((k for k in keys if k is not None), None)
        return DecryptResponse(text="".join(out), key=first, keys=keys)

    return await st.heavy.run(work)


@router.post(
    "/runs/{name}/sample",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/plain": {}}, "description": "the text, streamed"}},
)
async def sample_text(name: str, body: SampleRequest, st: State) -> StreamingResponse:
    """Text after `prime` (not repeated), streamed as it is drawn. Bad settings or a prime
    character the model never saw are a 400 before any text; a stream ends after
    SAMPLE_SECONDS; a client that hangs up stops the drawing and frees its worker."""
    from rnnlab import lm

    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    cancel = threading.Event()

    def put(item: tuple[str, Any]) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is gone (server stopping): nobody is listening
            cancel.set()

    def produce() -> None:
        try:
            loaded = st.store.load(name, "lm")
            chars = lm.sample(
                loaded, body.prime, body.length, body.temperature, body.top_k, body.top_p, body.seed
            )
            first = next(chars, "")  # runs the checks: their errors come before any text
        except Exception as e:
            put(("error", e))
            return
        put(("text", first))
        deadline, flushed, piece = time.monotonic() + SAMPLE_SECONDS, time.monotonic(), []
        try:
            for ch in chars:
                if cancel.is_set() or time.monotonic() > deadline:
                    break
                piece.append(ch)
                if time.monotonic() - flushed > FLUSH_S:
                    put(("text", "".join(piece)))
                    piece, flushed = [], time.monotonic()
        except Exception:  # a bug: the client sees the text end, the log says why
            log.exception("sampling from %s failed mid-stream", name)
        finally:  # whatever happens, what was drawn goes out and the stream ends
            put(("text", "".join(piece)))
            put(("end", None))

    st.heavy.submit(produce)
    try:
        kind, first = await queue.get()
    except BaseException:
        cancel.set()
        raise
    if kind == "error":
        raise first

    async def stream() -> AsyncIterator[str]:
        try:
            if first:
                yield first
            while True:
                kind, piece = await queue.get()
                if kind != "text":
                    return
                if piece:
                    yield piece
        finally:
            cancel.set()  # hung up or done: the worker stops at its next character

    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return StreamingResponse(stream(), media_type="text/plain; charset=utf-8", headers=headers)


@router.post("/train")
async def start_training(body: TrainRequest, st: State) -> dict:
    """Start training (one job at a time) into a fresh directory under the runs folder."""
    job = await asyncio.to_thread(st.jobs.start, body.task, given(body))
    return {"name": job.name}


@router.post("/train/check")
async def check_training(body: TrainRequest) -> dict[str, Any]:
    """What /api/train would start with these options — the architecture (decipher) or
    the preset (lm) their defaults come from — or its error; starts nothing."""
    from rnnlab.serve.jobs import check

    return await asyncio.to_thread(check, body.task, given(body))


@router.get("/train/options")
async def training_options() -> dict[str, Any]:
    """Every option the Train form offers, per task: label, help, default (by architecture
    or preset), bounds and choices: the page holds no copy of any of them."""
    from rnnlab.device import resolve_device

    preset = await asyncio.to_thread(lambda: resolve_device("auto").type)
    return form_description(preset)


@router.get("/train")
async def training_status(st: State) -> dict[str, Any]:
    """The running job, or the last one this server ran (null: none yet)."""
    job = st.jobs.job
    return {"job": job.status() if job is not None else None}


@router.post("/train/{name}/stop")
async def stop_training(name: str, st: State) -> dict[str, Any]:
    """Saves and stops, as Ctrl-C does; answers once the run is saved."""
    if st.jobs.get(name) is None:
        raise NotFound(f"no training job named {name!r}")
    job = await asyncio.to_thread(st.jobs.stop, name)
    return job.status()
