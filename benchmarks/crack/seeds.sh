#!/usr/bin/env bash
# The crack tables of README.md over seeds 0, 1, 2 (each seed draws other messages and keys),
# then the median and the worst of each cell (seeds.py). Run it alone: the substitution
# search and the short-text answers stop at a time limit, so a busy core changes results.
# Usage: benchmarks/crack/seeds.sh TEXT [SEEDS]   (TEXT: pride_and_prejudice.txt, see README;
#        SEEDS "" skips the classical tables, e.g. to run only the neural rows below)
set -euo pipefail
text=$1
seeds=${2-0 1 2}
here=$(dirname "$0")
out=$here/seeds
mkdir -p "$out"
all_classical="caesar,atbash,affine,vigenere,beaufort,autokey,substitution,jakobsen"
for s in $seeds; do
    python "$here/run.py" --text "$text" --n 50 --seed "$s" --out "$out/classical-seed$s.json"
    python "$here/run.py" --text "$text" --n 30 --seed "$s" --identify-lengths 40,100 \
        --skip "$all_classical" --out "$out/identify-short-seed$s.json"
    python "$here/run.py" --text "$text" --n 50 --seed "$s" --time-limit 2 \
        --short-lengths 15,20,30,40 --skip "$all_classical,identify" \
        --out "$out/short-text-seed$s.json"
done
if [ -n "$seeds" ]; then
    for table in classical identify-short short-text; do
        python "$here/seeds.py" --out "$here/seeds-$table.json" "$out/$table"-seed*.json
    done
fi
# Neural vs classical: the same 30 messages per cell (seed 0) read by Caesar networks trained
# with seeds 0, 1, 2 (benchmarks/seeds/run.py --only caesar_az_tagger_cosine --keep DIR):
# CAESAR_NETS="DIR/caesar_az_tagger_cosine-seed0 ..." benchmarks/crack/seeds.sh TEXT
if [ -n "${CAESAR_NETS:-}" ]; then
    i=0
    for net in $CAESAR_NETS; do
        python "$here/run.py" --text "$text" --n 30 --seed 0 --models "caesar=$net" \
            --skip "$all_classical,identify" --out "$out/neural-caesar-net$i.json"
        i=$((i + 1))
    done
    python "$here/seeds.py" --out "$here/seeds-neural-caesar.json" "$out"/neural-caesar-net*.json
fi
