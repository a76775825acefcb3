"""The shape of the library: one model interface behind a registry, no import cycles,
small modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnlab import decipher
from rnnlab.ciphers.keygen import KeySpace
from rnnlab.data.batch import Batch
from rnnlab.data.keyed import keyed_messages
from rnnlab.models.base import DecipherModel, TaskModel
from rnnlab.models.registry import architectures, build_model, model_class

SRC = Path(__file__).resolve().parents[1] / "src" / "rnnlab"
MAX_MODULE_LINES = 450


def tiny_config(architecture: str, pooling: str = "attention"):
    """A small config of each architecture, sized as training would size it."""
    cls = model_class(architecture, "lm" if architecture == "charlm" else "decipher")
    if architecture == "charlm":
        return cls.config_class(vocab_size=7, embedding=8, hidden=8, layers=2)
    if architecture == "rotor":  # start positions of a machine: 3 key letters
        config = cls.config_class(positions=4)
        space = KeySpace("enigma", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        config.sized_for(26, 26, space)
        return config, space
    small = {"embedding": 4, "hidden": 8}
    if architecture == "twopass":
        small |= {"reader_hidden": 8, "attention": 4, "pooling": pooling}
    if architecture == "keyed":
        small["attention"] = 4
    config = cls.config_class(**small)
    space = KeySpace(
        "substitution" if pooling == "symbol" else "vigenere", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", (2, 4)
    )
    config.sized_for(26, 26, space)
    return config, space


def keyed_batch(space: KeySpace, uniform: bool = False) -> Batch:
    plain = np.random.default_rng(0).integers(0, 26, size=(3, 12))
    return keyed_messages(space, plain, np.random.default_rng(1), held_out=False, uniform=uniform)


CASES = [(a, "attention") for a in architectures("decipher")] + [
    ("twopass", "periodic"),
    ("twopass", "symbol"),
]


@pytest.mark.parametrize("architecture, pooling", CASES)
def test_every_decipher_model_puts_every_trainable_term_in_its_loss(architecture, pooling):
    """What DistributedDataParallel needs: one call whose backward reaches every
    parameter (the two-pass key reader included)."""
    torch.manual_seed(0)
    config, space = tiny_config(architecture, pooling)
    model = build_model(config)
    assert isinstance(model, DecipherModel) and model.architecture == architecture
    out = model.loss(keyed_batch(space, uniform=config.uniform_drill))
    assert out.loss.ndim == 0 and out.stats["count"] == 36
    out.loss.backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing, missing


@pytest.mark.parametrize("architecture, pooling", CASES)
def test_every_decipher_model_decodes_one_id_per_character(architecture, pooling):
    torch.manual_seed(0)
    config, space = tiny_config(architecture, pooling)
    model = build_model(config).eval()
    batch = keyed_batch(space)
    with torch.no_grad():
        decoded = model.decode(batch.inputs, batch.keys, batch.key_lengths, chunk=5)
    assert decoded.ids.shape == batch.inputs.shape
    assert int(decoded.ids.max()) < 26
    assert (decoded.keys is not None) == model.names_keys


def test_the_char_lm_carries_its_state_out_of_the_loss():
    torch.manual_seed(0)
    model = build_model(tiny_config("charlm"))
    ids = torch.randint(0, 7, (2, 9))
    out = model.loss(Batch(ids[:, :-1], ids[:, 1:]))
    out.loss.backward()
    assert all(p.grad is not None for p in model.parameters())
    assert out.state is not None and out.stats["count"] == 16
    decoded = model.decode(ids[:, :4])
    continued = model.decode(ids[:, 4:], decoded.state)
    torch.testing.assert_close(
        torch.cat([decoded.logits, continued.logits], 1), model.decode(ids).logits
    )


def test_an_unknown_architecture_in_a_config_is_a_user_error():
    from rnnlab.errors import UserError

    with pytest.raises(UserError, match="unknown decipher architecture 'charlm'"):
        model_class("charlm", "decipher")


def test_every_registered_model_is_a_task_model_with_its_config():
    for task in ("decipher", "lm"):
        for name in architectures(task):
            cls = model_class(name, task)
            assert issubclass(cls, TaskModel) and cls.config_class.architecture == name


# -- options -> run -------------------------------------------------------------------


@pytest.mark.parametrize(
    "options, architecture, hidden",
    [
        ({}, "tagger", 128),
        ({"key_mode": "given", "cipher": "vigenere"}, "keyed", 256),
        ({"cipher": "autokey", "key": "KEY", "feedback": 8}, "feedback", 256),
        ({"key_mode": "unknown", "two_pass": True, "hidden": 64}, "twopass", 256),
        ({"key_mode": "given", "cipher": "enigma"}, "rotor", None),
        ({"key_mode": "given", "cipher": "enigma", "arch": "keyed"}, "keyed", 256),
    ],
)
def test_build_run_picks_the_model_and_its_defaults(options, architecture, hidden):
    run = decipher.build_run(options)
    assert run.architecture == architecture
    assert (
        getattr(run.model, "hidden", None) == hidden
    )  # the two-pass --hidden is its reader's width
    assert run.data.seq_len == 32 and run.train.steps == 300


@pytest.mark.parametrize(
    "options, curriculum",
    [
        ({"key_mode": "given", "cipher": "enigma"}, 50),  # the rotor model needs one
        ({"key_mode": "given", "cipher": "enigma", "curriculum": 0}, 0),
        ({"key_mode": "given", "cipher": "vigenere"}, 0),
        ({"key_mode": "given", "cipher": "vigenere", "curriculum": 20}, 20),
        ({}, 0),
    ],
)
def test_the_curriculum_defaults_to_50_steps_a_length_for_the_rotor_model_only(options, curriculum):
    run = decipher.build_run(options)
    assert run.data.curriculum == curriculum
    if run.architecture == "rotor":
        assert (run.model.start, run.model.gates) == ("key", "odometer")


def test_build_run_refuses_options_that_do_not_combine():
    from rnnlab.errors import UserError

    for layers in (1, 2):  # given at all, whatever its value
        with pytest.raises(UserError, match="`layers` is not an option of the keyed model"):
            decipher.build_run({"key_mode": "given", "layers": layers})


# -- the code itself ------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_level_imports(path: Path, modules: set[str]) -> set[str]:
    """rnnlab modules imported when `path` is imported (not those inside functions):
    `from a.b import c` imports a.b.c where that is a module, else a.b."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` imports never run
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("rnnlab")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rnnlab"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return found


def test_no_import_cycle_in_the_package():
    modules = {module_name(p): p for p in SRC.rglob("*.py")}
    graph = {
        name: module_level_imports(path, set(modules)) & modules.keys() - {name}
        for name, path in modules.items()
    }
    done: set[str] = set()

    def visit(name: str, trail: list[str]) -> None:
        if name in trail:
            raise AssertionError(
                "import cycle: " + " -> ".join([*trail[trail.index(name) :], name])
            )
        if name in done:
            return
        for child in sorted(graph[name]):
            visit(child, [*trail, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_no_module_is_over_450_lines():
    long = {
        str(p.relative_to(SRC)): n
        for p in SRC.rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, long


def test_no_code_outside_the_models_asks_which_model_class_it_has():
    model_classes = "Tagger|KeyedDecipherer|FeedbackDecipherer|TwoPassDecipherer|CharLM"
    pattern = re.compile(rf"isinstance\([^)]*\b({model_classes}|\w+ModelConfig|TaggerConfig)\b")
    offenders = [
        str(p.relative_to(SRC))
        for p in SRC.rglob("*.py")
        if "models" not in p.parts and pattern.search(p.read_text())
    ]
    assert not offenders, offenders
