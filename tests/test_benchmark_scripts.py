"""The seed-spread benchmarks: their commands are ones the CLI accepts, and their summaries
take the median and the worst of the right numbers."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from rnnlab.cli import build_parser
from tests.helpers import load_benchmark

SEEDS_RUN = load_benchmark("seeds/run.py")
CRACK_SEEDS = load_benchmark("crack/seeds.py")
CRACK_RUN = load_benchmark("crack/run.py")


@pytest.mark.parametrize("name", sorted(SEEDS_RUN.CASES))
def test_each_seed_case_is_a_run_the_cli_builds(name):
    from rnnlab import decipher

    flags, lengths = SEEDS_RUN.CASES[name]
    from rnnlab.cli.options import given_options
    from rnnlab.options import DECIPHER

    args = build_parser().parse_args(["decipher", "train", *flags, "--seed", "3", "--out", "x"])
    run = decipher.build_run(given_options(args, DECIPHER))
    if "--steps" in flags:
        assert run.train.steps == int(flags[flags.index("--steps") + 1])
    assert run.train.seed == 3
    assert all(int(n) > 0 for n in lengths.split(","))


def test_each_recorded_case_is_the_command_its_runs_were_made_with():
    """run.py keeps earlier seeds' runs only while a case's command is unchanged: a case
    edited without rerunning it would silently stand beside numbers of another command."""
    recorded = json.loads((Path(SEEDS_RUN.__file__).with_name("results.json")).read_text())
    for name, case in recorded["cases"].items():
        assert case["command"] == SEEDS_RUN.command_of(name), name


def crack_run(seed: int, caesar_exact: float, wrong: float, rot13_as: str) -> dict:
    identification = {"caesar": {"caesar": 2}, "rot13": {rot13_as: 2}, "atbash": {"atbash": 2}}
    return {
        "machine": "test",
        "seed": seed,
        "messages_per_cell": 2,
        "rows": [
            {
                "cipher": "caesar",
                "method": "rnnlab classical",
                "letters": 20,
                "exact": caesar_exact,
                "at_least_99": caesar_exact,
                "char_accuracy": caesar_exact,
                "mean_s": 0.1 * (seed + 1),
            }
        ],
        "short_text": [
            {"cipher": "vigenere", "letters": 20, "identified": 0.5, "exact": 0.5}
            | {"wrong": wrong, "refused": 0.5 - wrong}
        ],
        "identification": {"200": identification},
    }


def test_crack_seed_summary_takes_median_and_worst_per_cell(tmp_path, monkeypatch):
    files = []
    for seed, (exact, wrong, rot13_as) in enumerate(
        [(1.0, 0.0, "caesar"), (0.5, 0.1, "caesar"), (0.9, 0.0, "atbash")]
    ):
        files.append(tmp_path / f"seed{seed}.json")
        files[-1].write_text(json.dumps(crack_run(seed, exact, wrong, rot13_as)))
    out = tmp_path / "summary.json"
    monkeypatch.setattr("sys.argv", ["seeds.py", "--out", str(out), *map(str, files)])
    CRACK_SEEDS.main()
    summary = json.loads(out.read_text())
    (row,) = summary["rows"]
    assert row["exact"]["median"] == 0.9 and row["exact"]["worst"] == 0.5
    assert row["mean_s"]["worst"] == pytest.approx(0.3)  # slowest, not fastest
    (short,) = summary["short_text"]
    assert short["wrong"]["worst"] == 0.1 and short["wrong"]["median"] == 0.0
    ident = summary["identification"]["200"]
    # ROT13 named Caesar is right (it is Caesar with key 13); named atbash it is wrong
    assert ident["correct"]["runs"] == [6, 6, 4]
    assert ident["correct"]["median"] == 6 and ident["correct"]["worst"] == 4
    assert ident["messages"] == 6


@pytest.mark.parametrize("beside", [{"classical", "hybrid"}, {"hybrid"}, set()])
def test_crack_network_rows_add_only_the_columns_asked_for(monkeypatch, beside):
    """seeds.sh reads extra networks without re-running the classical attack beside each."""
    calls: list[dict] = []

    def fake_crack(ciphertext: str, **options) -> SimpleNamespace:
        calls.append(options)
        return SimpleNamespace(plaintext="")

    monkeypatch.setattr(CRACK_RUN, "crack", fake_crack)
    table = CRACK_RUN.Table()
    letters = "THEQUICKBROWNFOXJUMPSOVERTHELAZYDOG" * 20
    CRACK_RUN.run_neural(table, letters, {"substitution": "NET"}, [40], 2, 0, beside)
    assert {row["method"] for row in table.summary()} == {"neural"} | beside
    assert sum("model_dir" not in c for c in calls) == 2 * ("classical" in beside)
    assert sum(bool(c.get("hybrid")) for c in calls) == 2 * ("hybrid" in beside)
    assert sum(c.get("model_dir") == "NET" and not c.get("hybrid") for c in calls) == 2
