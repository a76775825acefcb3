"""Every option of `decipher train`, and the architectures they choose among.

The architecture is chosen by name (`arch`), or, as before it had one, by the option that
implies it: `two_pass` is the two-pass model, `feedback W` the feedback model, `key_mode
given` the keyed model (the rotor model for enigma). Each architecture declares the key
modes it trains under (the first is the default) and its own defaults (`Option.by`); an
option the chosen architecture does not take (`Option.archs`) is an error whatever its
value.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnlab.choices import IMPLS, KEY_MODES, POOLINGS, RNN_MODELS
from rnnlab.errors import UserError
from rnnlab.options.common import MAX_HIDDEN, MAX_STEPS, run_options
from rnnlab.options.spec import Declaration, Option, Options


@dataclass(frozen=True)
class Architecture:
    name: str
    help: str
    key_modes: tuple[str, ...]  # the first is its default


ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture(
            "tagger",
            "Embedding -> RNN -> Linear, one plaintext character per ciphertext character "
            "(the seed task's model)",
            ("fixed", "unknown"),
        ),
        Architecture(
            "keyed",
            "an LSTM handed each message's key, which it attends over",
            ("given",),
        ),
        Architecture(
            "feedback",
            "an LSTM that also reads its own last outputs (ciphers whose key runs over the "
            "plaintext, like autokey)",
            ("fixed", "unknown"),
        ),
        Architecture(
            "twopass",
            "a first pass names each message's key, a second decrypts under it",
            ("unknown",),
        ),
        Architecture(
            "rotor",
            "learned counters that drive learned tables, started from each message's key "
            "(enigma's start position)",
            ("given",),
        ),
    )
}
ARCHS = tuple(ARCHITECTURES)
LSTM_ARCHS = ("tagger", "keyed", "feedback", "twopass")  # all but the rotor model
# The rotor model's curriculum: without one it does not learn at all (the Enigma stayed at
# chance), and 50 steps at each of 1, 2, 4, … letters beat 20 and 100
# (benchmarks/decipher_families/README.md).
ROTOR_CURRICULUM = 50


def data(name: str, kind: str, help: str, **kw) -> Option:
    return Option(name, kind, help, section="data", group=kw.pop("group", "cipher"), **kw)


def model(name: str, kind: str, help: str, **kw) -> Option:
    return Option(name, kind, help, section="model", group="model", **kw)


DECIPHER = Declaration(
    "decipher",
    (
        data(
            "cipher",
            "str",
            "cipher family (see 'rnnlab cipher list')",
            default="caesar",
        ),
        data(
            "key",
            "str",
            "the cipher's key (default: the family's)",
            accepts_number=True,
        ),
        data(
            "alphabet",
            "str",
            "symbols the cipher works over (default: for caesar the seed task's 27, A-Z "
            "plus '-'; for other families their own)",
        ),
        data(
            "key_mode",
            "str",
            "fixed: one key for all messages; given: a random key per message, handed to "
            "the model; unknown: a random key per message the model must infer (default: "
            "the architecture's first: fixed, given for keyed and rotor, unknown for "
            "twopass)",
            label="Key mode",
            choices=KEY_MODES,
            default="fixed",
            by={a.name: a.key_modes[0] for a in ARCHITECTURES.values()},
        ),
        data(
            "key_length",
            "str",
            "given/unknown keys: length range of random key words, e.g. 3-12 (the default) or 5",
            metavar="LO-HI",
        ),
        data(
            "curriculum",
            "int",
            "given/unknown keys: train STEPS steps on messages of 1 character, then 2, 4, … "
            "up to the sequence length, with as many characters per step (0: the full "
            f"length from the start; default {ROTOR_CURRICULUM} for the rotor model, else 0)",
            default=0,
            by={"rotor": ROTOR_CURRICULUM},
            minimum=0,
            maximum=MAX_STEPS,
            metavar="STEPS",
        ),
        data(
            "plaintext",
            "str",
            "plaintext: random (uniform symbols, the seed's), english (the shipped corpus) "
            "or a text FILE",
            default="random",
            web_choices=("random", "english"),
        ),
        data(
            "pairs",
            "str",
            "train on a file of plaintext<TAB>ciphertext lines instead of a cipher",
            archs=("tagger",),
            file=True,
            metavar="FILE",
        ),
        data(
            "seq_len",
            "int",
            "message length in training",
            label="Message length",
            default=32,
            minimum=1,
            maximum=100_000,
            group="training",
        ),
        data(
            "val_examples",
            "int",
            "held-out messages for validation",
            label="Validation messages",
            default=1000,
            minimum=1,
            maximum=1_000_000,
            group="training",
        ),
        Option(
            "arch",
            "str",
            "the model: "
            + "; ".join(f"{a.name}: {a.help}" for a in ARCHITECTURES.values())
            + " (default: twopass with --two-pass, feedback with --feedback, keyed (rotor "
            "for enigma) with --key-mode given, else tagger)",
            label="Architecture",
            choices=ARCHS,
            section="model",
            field="architecture",
            group="model",
        ),
        model(
            "two_pass",
            "bool",
            "the two-pass model (the same as --arch twopass)",
            label="Two-pass",
            switch=True,
            archs=("twopass",),
            field="architecture",
        ),
        model(
            "feedback",
            "int",
            "the feedback model, reading its own last W outputs (teacher-forced in "
            "training, greedy in use); for ciphers whose key runs over the plaintext, like "
            "autokey (default 16 with --arch feedback)",
            label="Feedback window",
            by={"feedback": 16},
            minimum=1,
            maximum=1024,
            archs=("feedback",),
            field="window",
            metavar="W",
        ),
        model(
            "key_pooling",
            "str",
            "two-pass: how each key slot reads the message — attention (a learned query per "
            "slot, assumes nothing), periodic (slot j of a length-n key reads every n-th "
            "character from j: keys that repeat, like vigenere's) or symbol (each ciphertext "
            "symbol's frequency and bigram neighbours: keys that are a table, like "
            "substitution's)",
            default="attention",
            choices=POOLINGS,
            archs=("twopass",),
            field="pooling",
        ),
        model(
            "feed_location",
            "bool",
            "keyed and two-pass: feed the last step's attention over the key back into the "
            "LSTM; without it the model must count positions and drifts on long texts "
            "(default: on; two-pass: on for keys of several symbols)",
            archs=("keyed", "twopass"),
        ),
        model(
            "model",
            "str",
            "recurrent cell",
            label="Cell",
            default="lstm",
            choices=RNN_MODELS,
            archs=("tagger",),
        ),
        model(
            "impl",
            "str",
            "who computes the RNN: torch (cuDNN/oneDNN), scratch (rnnlab's cells, a Python "
            "loop) or compiled (rnnlab's cells with a hand-written backward pass); same "
            "weights",
            label="Implementation",
            default="torch",
            choices=IMPLS,
            archs=("tagger",),
        ),
        model(
            "embedding",
            "int",
            "embedding size",
            default=32,
            minimum=1,
            maximum=MAX_HIDDEN,
            archs=LSTM_ARCHS,
        ),
        model(
            "hidden",
            "int",
            "hidden units per layer (default 128; 256 for the keyed and feedback models; "
            "two-pass: its key reader's)",
            label="Hidden units",
            by={"tagger": 128, "keyed": 256, "feedback": 256, "twopass": 128},
            minimum=1,
            maximum=MAX_HIDDEN,
            archs=LSTM_ARCHS,
            fields_by={"twopass": "reader_hidden"},
        ),
        model(
            "layers",
            "int",
            "stacked recurrent layers (two-pass: its key reader's)",
            default=1,
            minimum=1,
            maximum=16,
            archs=("tagger", "twopass"),
            fields_by={"twopass": "reader_layers"},
        ),
        model(
            "bidirectional",
            "bool",
            "read messages both ways",
            default=False,
            switch=True,
            archs=("tagger",),
        ),
        model(
            "dropout",
            "float",
            "dropout between layers",
            default=0.0,
            minimum=0,
            below=1,
            archs=("tagger",),
        ),
        *run_options(
            {
                "steps": {"default": 300},
                "batch_size": {"default": 64, "help": "messages per step"},
                "lr": {"default": 3e-3, "help": "Adam learning rate"},
                "grad_clip": {"default": 1.0},
                "schedule": {
                    "default": "constant",
                    "help": "learning rate: constant, or cosine decay to a tenth over the steps",
                },
                "eval_every": {"default": 100},
                "precision": {"default": "fp32"},
                "seed": {"default": 0},
            },
            max_time_help="stop after MIN minutes of training (not counting evaluation) if "
            "the steps have not stopped it first",
        ),
    ),
)
# The options that choose the architecture, besides `arch` itself.
ARCH_CHOOSERS = ("arch", "two_pass", "feedback", "key_mode")


def architecture_of(o: Options) -> str:
    """The architecture the options ask for, and a UserError where they disagree."""
    implied = None
    if o.get("two_pass"):
        implied = "twopass"
    elif "feedback" in o:
        implied = "feedback"
    arch = o.get("arch")
    if arch is not None and implied is not None and arch != implied:
        chooser = "two_pass" if implied == "twopass" else "feedback"
        raise UserError(f"`{chooser}` is the {implied} model; it cannot be `arch` {arch}")
    if arch is None:
        arch = implied
    if arch is None:
        given_keys = o.get("key_mode") == "given"
        arch = ("rotor" if o.get("cipher") == "enigma" else "keyed") if given_keys else "tagger"
    check_architecture(o, ARCHITECTURES[arch])
    return arch


def check_architecture(o: Options, arch: Architecture) -> None:
    key_mode = o.get("key_mode", arch.name)
    if key_mode not in arch.key_modes:
        modes = " or ".join(arch.key_modes)
        raise UserError(f"the {arch.name} model trains with `key_mode` {modes}, not {key_mode}")
    for name in sorted(o.chosen):
        takes = o.declaration[name].archs
        if takes is not None and arch.name not in takes:
            raise UserError(
                f"`{name}` is not an option of the {arch.name} model (it is for "
                f"{', '.join(takes)}); drop it"
            )
