#!/usr/bin/env bash
# The issue-16 comparison: `rnnlab lm train --max-time 10` with default flags against the
# plain torch.nn.LSTM loop (plain_lstm.py), on the shipped Tiny Shakespeare, one after the
# other with nothing else running and the default torch threads. Both are scored on their
# last weights with the same evaluation (rnnlab's are the moving average its defaults keep:
# what `lm eval --last` loads). SEED=1 adds `--preset seed` (10 more minutes).
# Runs go to benchmarks/lm_cpu/out/ (not committed); the numbers, with the machine, go to
# benchmarks/lm_cpu/results-cpu.json (committed), which README.md quotes.
set -euo pipefail
out=benchmarks/lm_cpu/out
minutes=${MINUTES:-10}
mkdir -p "$out"
rm -rf "$out/default" "$out/seed"

rnnlab lm train --max-time "$minutes" --out "$out/default" --quiet
python benchmarks/lm_cpu/plain_lstm.py --minutes "$minutes" | tee "$out/plain.json"
if [ "${SEED:-0}" = 1 ]; then
  rnnlab lm train --preset seed --max-time "$minutes" --out "$out/seed" --quiet
fi

python - "$out" "$minutes" <<'PY'
import json, os, platform, sys
import torch
sys.path.insert(0, "benchmarks/lm_cpu")
from ablation import result_of

out, minutes = sys.argv[1], float(sys.argv[2])
runs = {"rnnlab defaults": result_of("rnnlab defaults", [], f"{out}/default")}
if os.path.isdir(f"{out}/seed"):
    runs["--preset seed"] = result_of("--preset seed", ["--preset", "seed"], f"{out}/seed")
plain = json.load(open(f"{out}/plain.json"))
plain["chars_per_s"] = round(plain["train_chars"] / (plain["minutes"] * 60))
runs["plain loop"] = plain
margin = plain["val_loss_nats"] - runs["rnnlab defaults"]["val_loss_nats"]
machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
           "threads": torch.get_num_threads(), "loadavg_1_5_15_at_end": os.getloadavg()}
summary = {"machine": machine, "minutes": minutes, "margin_nats": margin, "runs": runs}
json.dump(summary, open("benchmarks/lm_cpu/results-cpu.json", "w"), indent=2)
print(json.dumps(summary, indent=2))
PY
