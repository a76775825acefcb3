"""What the trainer's CPU step costs with and without the two speed-ups of issue 16's third
round: fused AdamW (train/optim.py) and dropout masks drawn from random int16s
(rnnlab/nn/dropout.py, also between the LSTM layers). Each variant trains the CPU preset
for --steps steps in its own process (the "before" variants patch the speed-ups out);
the variants take turns, and the median characters/s over the turns is reported, with the
ratio to the variant "before" of the same precision.

    python benchmarks/lm_cpu/trainer_speed.py --out benchmarks/lm_cpu/results-trainer-speed.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from report import emit, machine

from rnnlab.checkpoint import read_metrics

VARIANTS = {  # name: (precision, fused AdamW, int16 dropout masks)
    "fp32 before": ("fp32", False, False),
    "fp32 now": ("fp32", True, True),
    "bf16 before": ("bf16", False, False),
    "bf16 fused AdamW only": ("bf16", True, False),
    "bf16 int16 dropout only": ("bf16", False, True),
    "bf16 now": ("bf16", True, True),
}


def run_variant(name: str, steps: int, out: Path) -> float:
    """Characters per second of training time (the trainer's own clock)."""
    precision, fused, cheap_dropout = VARIANTS[name]
    code = f"""
import torch
import rnnlab.models.charlm, rnnlab.nn.modules, rnnlab.train.optim
from rnnlab.tasks import lm
if not {fused}:
    rnnlab.train.optim.FUSED = ()
if not {cheap_dropout}:
    rnnlab.models.charlm.Dropout = torch.nn.Dropout
    rnnlab.nn.modules._ImplMixin._drops_between_layers_on_cpu = lambda self, x: False
options = {{"preset": "cpu", "steps": {steps}, "eval_every": 10**9, "precision": "{precision}"}}
run = lm.build_run(options)
lm.train(run, "{out}")
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    last = [r for r in read_metrics(out / "metrics.jsonl") if r.get("split") == "train"][-1]
    config = json.loads((out / "config.json").read_text())
    per_step = config["train"]["batch_size"] * config["data"]["seq_len"]
    return last["step"] * per_step / last["elapsed_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    speeds: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as tmp:
        for turn in range(args.turns):
            for name in VARIANTS:
                out = Path(tmp) / f"{turn}-{name.replace(' ', '_')}"
                speeds[name].append(run_variant(name, args.steps, out))
    median = {name: statistics.median(s) for name, s in speeds.items()}
    rows = [
        {
            "variant": name,
            "precision": VARIANTS[name][0],
            "fused_adamw": VARIANTS[name][1],
            "int16_dropout": VARIANTS[name][2],
            "chars_per_s_median": round(median[name]),
            "chars_per_s_per_turn": [round(s) for s in speeds[name]],
            "vs_before": round(median[name] / median[f"{VARIANTS[name][0]} before"], 2),
        }
        for name in VARIANTS
    ]
    result = {
        "machine": machine(),
        "steps": args.steps,
        "turns": args.turns,
        "rows": rows,
    }
    emit(result, args.out)


if __name__ == "__main__":
    main()
