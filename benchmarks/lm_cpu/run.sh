#!/usr/bin/env bash
# Tiny Shakespeare, standard 90/10 split, 10 minutes of training each, one after the other
# with nothing else running. Runs go to benchmarks/lm_cpu/out/ (not committed); the numbers,
# with the machine, go to benchmarks/lm_cpu/results-cpu.json (committed), which README.md
# quotes. Every side is scored on its last weights (`lm eval --last`; the plain loop keeps
# no best), the same evaluation for all.
set -euo pipefail
out=benchmarks/lm_cpu/out
mkdir -p "$out"
rm -rf "$out/default" "$out/seed"

rnnlab lm train --max-time 10 --out "$out/default" --quiet
rnnlab lm eval "$out/default" --last --json | tee "$out/default.json"

rnnlab lm train --preset seed --max-time 10 --out "$out/seed" --quiet
rnnlab lm eval "$out/seed" --last --json | tee "$out/seed.json"

python benchmarks/lm_cpu/plain_lstm.py --minutes 10 | tee "$out/plain.json"

python - "$out" <<'PY'
import json, os, platform, sys, torch
out = sys.argv[1]
runs = {name: json.load(open(f"{out}/{name}.json")) for name in ("default", "seed", "plain")}
machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__}
json.dump({"machine": machine, "minutes": 10, "runs": runs},
          open("benchmarks/lm_cpu/results-cpu.json", "w"), indent=2)
PY
