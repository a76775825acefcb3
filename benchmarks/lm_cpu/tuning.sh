#!/usr/bin/env bash
# The second round of the ablation (this machine read ~12 M characters in ten minutes, about
# 12 epochs of Tiny Shakespeare, and over-fitted): levers on top of the batch-32 + EMA
# default, each row `rnnlab lm train --max-time 10` with two torch threads, one row at a
# time with nothing else running. Recorded in two sittings (the rows were chosen after the
# first two had finished, bf16 after the fourth); the rows are merged into results-tuning.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p benchmarks/lm_cpu/out
ab="python benchmarks/lm_cpu/ablation.py --minutes ${MINUTES:-10} --parallel 1 --threads 2"
$ab --rows "default + dropout 0.2" "default + dropout 0.3" --out benchmarks/lm_cpu/out/round2-a.json
$ab --rows "dropout 0.1 (the default before this round)" "default + dropout 0.2 + lr 5e-3" \
  --out benchmarks/lm_cpu/out/round2-b.json
$ab --rows "default + dropout 0.2 + lr 5e-3 + bf16" --out benchmarks/lm_cpu/out/round2-c.json
python - <<'PY'
import json
parts = [json.load(open(f"benchmarks/lm_cpu/out/round2-{x}.json")) for x in "abc"]
merged = dict(parts[0], rows=[row for part in parts for row in part["rows"]])
json.dump(merged, open("benchmarks/lm_cpu/results-tuning.json", "w"), indent=2)
print(json.dumps(merged, indent=2))
PY
