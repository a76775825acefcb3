"""The JSON bodies the API takes and gives: checked by pydantic, shown on /docs.

Unknown fields are refused (`extra="forbid"`): a misspelt "temprature" is an error, not
a silently ignored setting.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_CRACK_SECONDS = 60.0
DEFAULT_CRACK_SECONDS = 10.0
MAX_SAMPLE_LENGTH = 20_000
SAMPLE_SECONDS = 60.0  # a stream ends after this long, however many characters it has


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CipherInfo(BaseModel):
    name: str
    description: str
    alphabet: str
    key_help: str


class CipherRequest(Strict):
    op: Literal["encrypt", "decrypt"]
    cipher: str
    key: str | int | None = Field(None, description="the family's key; default: the family's")
    alphabet: str | None = Field(None, description="symbols it works over; default: the family's")
    text: str


class TextResponse(BaseModel):
    text: str


class CrackRequest(Strict):
    text: str
    cipher: str | None = Field(None, description="the family if known; default: identify it")
    time_limit: float | None = Field(
        None,
        gt=0,
        le=MAX_CRACK_SECONDS,
        description=f"seconds of search (default {DEFAULT_CRACK_SECONDS:g})",
    )


class DecryptRequest(Strict):
    text: str
    key: str | int | None = Field(None, description="the message's key, for a given-key model")


class DecryptResponse(BaseModel):
    text: str
    key: str | None = Field(None, description="the key a two-pass model named (first line)")
    keys: list[str | None] | None = Field(None, description="per line, for a two-pass model")


class SampleRequest(Strict):
    prime: str = ""
    length: int = Field(300, ge=0, le=MAX_SAMPLE_LENGTH)
    temperature: float = 0.8
    top_k: int = 0
    top_p: float = 1.0
    seed: int = 0


class Health(BaseModel):
    ok: bool
    version: str
