#!/usr/bin/env bash
# The recorded ablation of this session: two lanes, one torch thread each, on the 2-core
# machine with nothing else running. Lane A trains the given-key Enigma benchmark for 30
# minutes (benchmarks/decipher_families/enigma_given.py, also one thread) and then two
# ablation rows; lane B runs the other six rows. Every LM row therefore trains on one core
# beside one other one-thread job, the same conditions for all rows.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p benchmarks/lm_cpu/out
ab="python benchmarks/lm_cpu/ablation.py --minutes ${MINUTES:-10} --parallel 1 --threads 1"
(
  rm -rf runs/enigma-given
  python benchmarks/decipher_families/enigma_given.py --max-time "${ENIGMA_MINUTES:-30}"
  $ab --rows "layer-norm LSTM" "the new default" --out benchmarks/lm_cpu/out/lane-a.json
) > benchmarks/lm_cpu/out/lane-a.log 2>&1 &
lane_a=$!
$ab --rows "base (the old default)" "weight drop 0.3" "variational dropout 0.2" "EMA 0.999" \
  "batch 32" "Mogrifier LSTM" --out benchmarks/lm_cpu/out/lane-b.json \
  > benchmarks/lm_cpu/out/lane-b.log 2>&1
wait "$lane_a"
python - <<'PY'
import json
lanes = [json.load(open(f"benchmarks/lm_cpu/out/lane-{x}.json")) for x in "ba"]
merged = dict(lanes[0], rows=lanes[0]["rows"] + lanes[1]["rows"], rows_at_once=2,
              beside="lane A: the given-key Enigma benchmark (one thread), then two rows")
json.dump(merged, open("benchmarks/lm_cpu/results-ablation.json", "w"), indent=2)
print(json.dumps(merged, indent=2))
PY
