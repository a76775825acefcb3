#!/usr/bin/env bash
# A 1 GB text file trains with bounded resident memory. Builds the file (Tiny Shakespeare
# repeated 900 times), then stream.py encodes it (empty cache) and streams --chars
# characters of it through training, sampling the resident memory of each run.
set -euo pipefail
work=${WORK:-/tmp/rnnlab_lm_memory}
mkdir -p "$work"
big="$work/big.txt"
if [ ! -f "$big" ]; then
  src=$(python -c "from rnnlab.data.corpus import shipped_corpus; print(shipped_corpus())")
  for _ in $(seq 1 900); do cat "$src"; done > "$big"   # 900 x 1,115,394 = 1.004 GB
fi
python benchmarks/lm_memory/stream.py --file "$big" --out benchmarks/lm_memory/results-cpu.json
