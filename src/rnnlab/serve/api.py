"""The API for classical ciphers: health, the cipher list, encrypt/decrypt, crack. Each
route calls the function `rnnlab cipher` or `rnnlab crack` calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

import rnnlab
from rnnlab.ciphers import cipher_class, cipher_names, get_cipher
from rnnlab.errors import UserError
from rnnlab.serve.schemas import (
    DEFAULT_CRACK_SECONDS,
    CipherInfo,
    CipherRequest,
    CrackRequest,
    Health,
    TextResponse,
)
from rnnlab.serve.state import State
from rnnlab.serve.train_schema import in_page_words

router = APIRouter(prefix="/api")


@router.get("/health", response_model=Health)
async def health() -> Health:
    return Health(ok=True, version=rnnlab.__version__)


@router.get("/ciphers", response_model=list[CipherInfo])
async def ciphers() -> list[CipherInfo]:
    return [cipher_info(name) for name in cipher_names()]


def cipher_info(name: str) -> CipherInfo:
    cls = cipher_class(name)
    return CipherInfo(
        name=name, description=cls.summary, alphabet=cls.default_alphabet, key_help=key_help(name)
    )


def key_help(name: str) -> str:
    """What to type as the key: the family's own words where it has them, else what
    building it without a key says (its default, or the error naming what it needs)."""
    cls = cipher_class(name)
    own = getattr(cls, "key_help", None)
    if isinstance(own, str):
        return own
    if "no key" in cls.summary:
        return "no key"
    try:
        default = get_cipher(name).key
    except UserError as e:  # "vigenere needs a key word …, e.g. `key` LEMON": the page's words
        return in_page_words(str(e)).replace("Key ", "")
    return "no key" if default is None else f"optional; default {default}"


@router.post("/cipher", response_model=TextResponse)
async def apply_cipher(body: CipherRequest, st: State) -> TextResponse:
    def work() -> str:
        cipher = get_cipher(body.cipher, key=body.key, alphabet=body.alphabet)
        return cipher.encrypt(body.text) if body.op == "encrypt" else cipher.decrypt(body.text)

    return TextResponse(text=await st.light.run(work))


@router.post("/crack")
async def crack_text(body: CrackRequest, st: State) -> dict[str, Any]:
    """The object `rnnlab crack --json` prints."""
    from rnnlab.crack import crack

    limit = body.time_limit if body.time_limit is not None else DEFAULT_CRACK_SECONDS

    def work() -> dict[str, Any]:
        return crack(body.text, cipher=body.cipher or None, time_limit=limit).to_json()

    return await st.heavy.run(work)
