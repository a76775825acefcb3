#!/usr/bin/env bash
# The third round of the ablation (fifth session): the comparison's worst pair is seed 2
# (rnnlab 1.4383 against the plain loop's 1.4739), so each lever is tried on seed 2, each
# row `rnnlab lm train --max-time 10 --seed 2 ...` with the default two threads, one at a
# time with nothing else running (the other job on the machine, a step-budgeted decipher
# run, was stopped with SIGSTOP for each row). Recorded in results-tuning3.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
python benchmarks/lm_cpu/ablation.py --minutes "${MINUTES:-10}" --parallel 1 --threads 2 \
  --rows "seed 2 + dropout 0.3" "seed 2 + hidden 384 + dropout 0.3" "seed 2 + shuffled epochs" \
  "seed 2 + embedding init 0.1" \
  --work benchmarks/lm_cpu/out/round3 --out benchmarks/lm_cpu/results-tuning3.json "$@"
