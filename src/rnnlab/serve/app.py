"""The ASGI app of `rnnlab serve`: the JSON API, the static page, and the rules every
response follows — errors are `{"error": "one line"}` with a 4xx status for bad input,
never a traceback."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

import rnnlab
from rnnlab.errors import UserError
from rnnlab.options import DECLARATIONS
from rnnlab.serve import api, api_runs
from rnnlab.serve.jobs import Conflict
from rnnlab.serve.limits import MAX_BODY_BYTES, Busy, Guard
from rnnlab.serve.runs import NotFound
from rnnlab.serve.state import ServeState
from rnnlab.serve.train_schema import in_page_words

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("rnnlab.serve")
# The page loads nothing from anywhere else: no CDN, no web fonts, no inline script.
PAGE_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self'; object-src 'none'"


def create_app(
    runs: str | Path,
    allowed_hosts: tuple[str, ...] | None = None,
    max_body: int = MAX_BODY_BYTES,
    state: ServeState | None = None,
) -> Guard:
    """The app serving the runs under `runs`. `allowed_hosts`: Host names it answers (None:
    any); `state` lets a test size the worker pools."""
    serve = state or ServeState.for_runs(runs)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        serve.close()  # a training job saves and stops, as on Ctrl-C

    # FastAPIOffline: FastAPI whose /docs page serves Swagger UI from the installed package
    # rather than a CDN, so the API documentation works with no network, like the page.
    app = FastAPIOffline(
        title="rnnlab",
        version=rnnlab.__version__,
        description="Ciphers, cracking, trained runs, generation and training: the API "
        "behind the page that `rnnlab serve` shows.",
        lifespan=lifespan,
    )
    app.state.serve = serve
    app.include_router(api.router)
    app.include_router(api_runs.router)
    add_error_handlers(app)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers={"Content-Security-Policy": PAGE_POLICY})

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return Guard(app, allowed_hosts, max_body)


def error(status: int, message: str) -> JSONResponse:
    # one line, whatever the library's message held
    return JSONResponse({"error": " ".join(str(message).split())}, status_code=status)


def validation_words(first: dict) -> str:
    """pydantic's first complaint, naming a training option by its label on the form."""
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    if len(loc) == 2 and loc[0] in DECLARATIONS and loc[1] in DECLARATIONS[loc[0]]:
        where = DECLARATIONS[loc[0]][loc[1]].label  # ("decipher", "steps"): the task's option
    else:
        where = ".".join(loc) or "body"
    return f"{where}: {first.get('msg', 'invalid')}"


def add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(UserError)
    async def user_error(request: Request, e: UserError) -> JSONResponse:
        status = 404 if isinstance(e, NotFound) else 409 if isinstance(e, Conflict) else 400
        return error(status, in_page_words(str(e)))

    @app.exception_handler(Busy)
    async def busy(request: Request, e: Busy) -> JSONResponse:
        response = error(503, str(e))
        response.headers["Retry-After"] = "1"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        first = e.errors()[0] if e.errors() else {}
        if first.get("type") == "json_invalid":
            return error(400, "malformed JSON body")
        return error(422, validation_words(first))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> JSONResponse:
        return error(e.status_code, str(e.detail))

    @app.exception_handler(Exception)
    async def bug(request: Request, e: Exception) -> JSONResponse:
        log.exception("internal error on %s %s", request.method, request.url.path)
        return error(500, f"internal error ({type(e).__name__}); the server log has the details")
