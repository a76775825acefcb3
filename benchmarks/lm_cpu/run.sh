#!/usr/bin/env bash
# The issue-16 comparison: `rnnlab lm train --max-time 10` with default flags against the
# plain torch.nn.LSTM loop (plain_lstm.py), on the shipped Tiny Shakespeare, one after the
# other with nothing else running and the default torch threads, as PAIRS pairs (default
# 3) with seeds 0, 1, 2...: a margin is a property of the command only if it holds for
# every pair. Both sides are scored on their last weights with the same evaluation
# (rnnlab's are the moving average its defaults keep: what `lm eval --last` loads).
# SEED=1 adds one `--preset seed` run (10 more minutes).
# Runs go to benchmarks/lm_cpu/out/ (not committed); the numbers, with the machine, go to
# benchmarks/lm_cpu/results-cpu.json (committed) after every pair, which README.md quotes.
set -euo pipefail
out=benchmarks/lm_cpu/out
minutes=${MINUTES:-10}
pairs=${PAIRS:-3}
mkdir -p "$out"
rm -rf "$out"/default-* "$out"/plain-*.json "$out/seed"

summarise() {
  python - "$out" "$minutes" "$pairs" <<'PY'
import json, os, platform, statistics, sys
from pathlib import Path
import torch
sys.path.insert(0, "benchmarks/lm_cpu")
from ablation import result_of

out, minutes, asked = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
pairs = []
for seed in range(asked):
    plain_file = out / f"plain-{seed}.json"
    if not plain_file.exists():
        break
    ours = result_of("rnnlab defaults", ["--seed", str(seed)], out / f"default-{seed}")
    plain = json.loads(plain_file.read_text())
    plain["chars_per_s"] = round(plain["train_chars"] / (plain["minutes"] * 60))
    margin = plain["val_loss_nats"] - ours["val_loss_nats"]
    pairs.append({"seed": seed, "rnnlab defaults": ours, "plain loop": plain,
                  "margin_nats": margin, "chars_per_s_ratio":
                  round(ours["chars_per_s"] / plain["chars_per_s"], 2)})
margins = [p["margin_nats"] for p in pairs]
summary = {
    "machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                "torch": torch.__version__, "threads": torch.get_num_threads(),
                "loadavg_1_5_15_at_end": os.getloadavg()},
    "minutes": minutes,
    "pairs_done": len(pairs),
    "partial": len(pairs) < asked,
    "margin_median_nats": statistics.median(margins),
    "margin_worst_nats": min(margins),
    "pairs": pairs,
}
if os.path.isdir(out / "seed"):
    summary["--preset seed"] = result_of("--preset seed", ["--preset", "seed"], out / "seed")
Path("benchmarks/lm_cpu/results-cpu.json").write_text(json.dumps(summary, indent=2) + "\n")
print(json.dumps({k: v for k, v in summary.items() if k != "pairs"}, indent=2))
PY
}

for seed in $(seq 0 $((pairs - 1))); do
  rnnlab lm train --max-time "$minutes" --seed "$seed" --out "$out/default-$seed" --quiet
  python benchmarks/lm_cpu/plain_lstm.py --minutes "$minutes" --seed "$seed" \
    > "$out/plain-$seed.json"
  summarise
done
if [ "${SEED:-0}" = 1 ]; then
  rnnlab lm train --preset seed --max-time "$minutes" --out "$out/seed" --quiet
  summarise
fi
