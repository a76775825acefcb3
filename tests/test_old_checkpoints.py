"""Checkpoints written by older code still load, and give the outputs they gave then.

tests/fixtures/old_checkpoints/ holds tiny models trained by the commit that its
expected.json names, and what that code made of them (make.py there wrote both). Only the
public functions of `rnnlab.decipher` and `rnnlab.lm` are called here — load, decrypt,
named_key, evaluate, sample — so that model classes and internals can move freely: what
may not change is what a user's saved checkpoint does. The models are untrained; what they
output is arbitrary but fixed. (The raw logits in expected.json are for a person comparing
numbers by hand; reaching them takes internals, so they are not asserted.)
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from rnnlab import decipher, lm

FIXTURES = Path(__file__).parent / "fixtures" / "old_checkpoints"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
DECIPHER = sorted(EXPECTED["decipher"])
LM = sorted(EXPECTED["lm"])
REL = 1e-5  # losses: the same arithmetic on the same weights, up to summation order


def fixture_files() -> dict[str, str]:
    """Every file of the checkpoints and the inputs, by path, with its SHA-256."""
    paths = [p for p in FIXTURES.rglob("*") if p.is_file() and p.parent != FIXTURES]
    paths += [FIXTURES / name for name in EXPECTED["files"] if "/" not in name]
    return {
        p.relative_to(FIXTURES).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in paths
        if p.exists()
    }


@pytest.fixture(scope="module", autouse=True)
def _fixtures_untouched():
    """Loading and using a checkpoint writes nothing into it."""
    before = fixture_files()
    yield
    assert fixture_files() == before


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    # lm.evaluate caches the encoded text file; not in the user's ~/.cache
    monkeypatch.setenv("RNNLAB_CACHE", str(tmp_path / "cache"))


def assert_includes(result: dict, expected: dict) -> None:
    """Every recorded field is there with its recorded value (new fields may be added)."""
    for field, value in expected.items():
        assert result[field] == value, field


def test_the_fixtures_are_the_files_the_outputs_were_recorded_from():
    assert fixture_files() == EXPECTED["files"]


@pytest.mark.parametrize("name", DECIPHER)
def test_decipher_checkpoint_decrypts_as_before(name):
    loaded = decipher.load(FIXTURES / name, device="cpu")
    for case in EXPECTED["decipher"][name]["decrypt"]:
        text = case["ciphertext"]
        assert decipher.decrypt(loaded, text, key=case["key"]) == case["plaintext"]
        if "named_key" in case:
            assert decipher.named_key(loaded, text) == case["named_key"]


def test_the_long_ciphertexts_pass_every_chunk_and_window():
    # decrypt streams 4096 characters at a time; bidirectional and key readers see 2048
    for name in DECIPHER:
        longest = max(len(c["ciphertext"]) for c in EXPECTED["decipher"][name]["decrypt"])
        assert longest > 4096, name


@pytest.mark.parametrize("name", DECIPHER)
def test_decipher_checkpoint_evaluates_as_before(name):
    loaded = decipher.load(FIXTURES / name, device="cpu")
    recorded = EXPECTED["decipher"][name]
    ev = recorded["evaluate"]
    result = decipher.evaluate(loaded, ev["lengths"], ev["examples"], ev["seed"])
    assert_includes(result, ev["result"])
    if "evaluate_pairs" in recorded:
        pairs = recorded["evaluate_pairs"]
        result = decipher.evaluate(loaded, [], pairs=str(FIXTURES / pairs["pairs"]))
        assert_includes(result, pairs["result"])


@pytest.mark.parametrize("last", [False, True], ids=["best", "last"])
@pytest.mark.parametrize("name", LM)
def test_lm_checkpoint_evaluates_as_before(name, last):
    recorded = EXPECTED["lm"][name]["evaluate"]
    expected = recorded["last" if last else "default"]
    loaded = lm.load(FIXTURES / name, device="cpu", last=last)
    result = lm.evaluate(loaded, str(FIXTURES / recorded["data"]))
    assert result["loss"] == pytest.approx(expected["loss"], rel=REL)
    assert result["bpc"] == pytest.approx(expected["bpc"], rel=REL)
    for field in ("chars", "oov", "weights"):
        assert result[field] == expected[field], field


@pytest.mark.parametrize("name", LM)
def test_lm_checkpoint_samples_as_before(name):
    loaded = lm.load(FIXTURES / name, device="cpu")
    for recorded in EXPECTED["lm"][name]["sample"]:
        settings = {k: v for k, v in recorded.items() if k != "text"}
        assert "".join(lm.sample(loaded, **settings)) == recorded["text"], settings
