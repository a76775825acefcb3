#!/usr/bin/env bash
# Tiny Shakespeare, standard 90/10 split, 10 minutes of training each, one after the other
# with nothing else running. Results go to benchmarks/lm_cpu/out/ (not committed) and the
# numbers are copied by hand into README.md here.
set -euo pipefail
out=benchmarks/lm_cpu/out
mkdir -p "$out"
rm -rf "$out/default" "$out/seed"

rnnlab lm train --max-time 10 --out "$out/default" --quiet
rnnlab lm eval "$out/default" --json | tee "$out/default.json"

rnnlab lm train --preset seed --max-time 10 --out "$out/seed" --quiet
rnnlab lm eval "$out/seed" --json | tee "$out/seed.json"

python benchmarks/lm_cpu/plain_lstm.py --minutes 10 | tee "$out/plain.json"
