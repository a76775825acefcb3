#!/usr/bin/env bash
# Every GPU check in one script, for a session that is lent a device machine (see
# ../.library/device): run it there with
#     bash benchmarks/device_checks.sh        # writes its results under $OUT (or ./device-out)
# It installs what the checks need, then, each step under its own time limit so that one
# slow step cannot starve the rest (about 8 minutes in all):
#   1. pytest -m gpu                   the CUDA parity grid and the GPU round trips
#   2. rnnlab bench --device cuda      every model x impl against torch.nn (cuDNN)
#   3. the cuda LM preset against a plain cuDNN LSTM loop, 2 minutes each, same evaluation
#   4. DDP overhead on one GPU against the plain run (benchmarks/distributed), if present
# Record what it prints in the benchmark READMEs, with the machine (nvidia-smi below).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-device-out}
mkdir -p "$out"
step() {  # NAME SECONDS COMMAND...
    local name=$1 limit=$2
    shift 2
    echo "== $name (limit ${limit}s)"
    timeout "$limit" "$@" > "$out/$name.txt" 2>&1
    echo "   exit $? — last lines:"; tail -n 5 "$out/$name.txt"
}

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
if [ ! -d .venv ]; then
    python3 -m venv .venv && . .venv/bin/activate && pip install -q torch -e '.[test]'
else
    . .venv/bin/activate
fi
python -c "import torch; print('cuda', torch.cuda.is_available(), torch.version.cuda)"

step pytest-gpu 180 pytest -m gpu -q -p no:cacheprovider
step bench-cuda 120 rnnlab bench --device cuda --json
cp "$out/bench-cuda.txt" "$out/bench-cuda.json" 2>/dev/null
step lm-cuda-preset 170 bash -c "rnnlab lm train --preset cuda --max-time 2 --out $out/lm-cuda --quiet \
    && rnnlab lm eval $out/lm-cuda --last --json"
step lm-plain-cudnn 170 python benchmarks/lm_cpu/plain_lstm.py --device cuda --minutes 2 \
    --hidden 1024 --layers 2 --seq-len 128 --batch-size 128
if [ -f benchmarks/distributed/run.py ]; then
    step ddp-overhead 120 python benchmarks/distributed/run.py gpu-overhead \
        --out "$out/ddp-gpu-overhead.json"
fi
echo "results in $out/"
