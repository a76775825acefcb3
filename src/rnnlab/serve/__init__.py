"""`rnnlab serve`: one local web page for every job — ciphers, cracking, trained runs,
generation, live training curves — over a JSON API that calls the same library functions
as the command line. Needs the `serve` extra (FastAPI and uvicorn)."""

from rnnlab.serve.app import create_app

__all__ = ["create_app"]
