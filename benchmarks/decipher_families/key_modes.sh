#!/usr/bin/env bash
# The key-mode runs of README.md, one at a time, one torch thread (see README for why).
# Usage: benchmarks/decipher_families/key_modes.sh [OUT_DIR]   (default runs/key-modes)
set -euo pipefail
out=${1:-runs/key-modes}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1

run() {  # NAME EVAL_LENGTHS TRAIN_FLAGS...
    local name=$1 lengths=$2
    shift 2
    rnnlab decipher train "$@" --out "$out/$name" --quiet
    grep '"elapsed_s"' "$out/$name/metrics.jsonl" | tail -1
    rnnlab decipher eval "$out/$name" --lengths "$lengths" --json
}

L=32,64,160,320,3200
run vig_given "$L" --cipher vigenere --key-mode given --key-length 3-12 \
    --steps 1000 --eval-every 250
run vig_given_count "$L" --cipher vigenere --key-mode given --key-length 3-12 \
    --no-feed-location --steps 1000 --eval-every 250
run auto_fb "$L" --cipher autokey --key QUEENLY --feedback 16 --steps 500 --eval-every 250
run caesar_unk 40,80,400 --cipher caesar --key-mode unknown --plaintext english \
    --bidirectional --layers 2 --hidden 128 --seq-len 40 --steps 1500 --eval-every 500
rnnlab decipher train --out "$out/caesar_unk" --resume --steps 4500 --quiet  # same run, longer
rnnlab decipher eval "$out/caesar_unk" --lengths 40,80,400 --json
run caesar_cos 40,80,400 --cipher caesar --key-mode unknown --plaintext english \
    --bidirectional --layers 2 --hidden 128 --seq-len 40 --steps 3000 --schedule cosine \
    --eval-every 500
run caesar_cos6k 40,80,400 --cipher caesar --key-mode unknown --plaintext english \
    --bidirectional --layers 2 --hidden 128 --seq-len 40 --steps 6000 --schedule cosine \
    --eval-every 1000
# second session, run with two threads on an idle machine (OMP_NUM_THREADS unset):
run caesar_cos10k 40,80,400 --cipher caesar --key-mode unknown --plaintext english \
    --bidirectional --layers 2 --hidden 128 --seq-len 40 --steps 10000 --schedule cosine \
    --eval-every 2500
run vig_unk 200,400 --cipher vigenere --key-mode unknown --key-length 3-8 --plaintext english \
    --bidirectional --layers 2 --hidden 128 --seq-len 200 --batch-size 32 --steps 600 \
    --eval-every 200
run sub_unk 100,256,1000 --cipher substitution --key-mode unknown --plaintext english \
    --bidirectional --layers 2 --hidden 128 --seq-len 256 --batch-size 32 --steps 600 \
    --eval-every 200
run enigma_fixed 32,64,128,320 --cipher enigma --hidden 256 --steps 3000 --eval-every 1000
# third session: the two-pass model (pass 1 names each message's key, pass 2 decrypts under
# it); caesar with two threads, the vigenère runs with one, two runs sharing the machine.
unset OMP_NUM_THREADS MKL_NUM_THREADS
run caesar_2pass 40,80,400 --cipher caesar --key-mode unknown --plaintext english \
    --two-pass --layers 2 --seq-len 40 --steps 3000 --schedule cosine --eval-every 500
rnnlab decipher eval "$out/caesar_2pass" --lengths 40 --examples 5000 --seed 99 --json
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
run vig_2pass_periodic 200,400,2000 --cipher vigenere --key-mode unknown --key-length 3-8 \
    --plaintext english --two-pass --key-pooling periodic --no-feed-location --layers 1 \
    --hidden 64 --seq-len 200 --batch-size 32 --steps 1500 --schedule cosine --eval-every 250 \
    --val-examples 500
run vig_2pass_periodic_fed 200,400,2000 --cipher vigenere --key-mode unknown --key-length 3-8 \
    --plaintext english --two-pass --key-pooling periodic --layers 1 --hidden 64 --seq-len 200 \
    --batch-size 32 --steps 1500 --schedule cosine --eval-every 250 --val-examples 500
run vig_2pass_attention 200,400 --cipher vigenere --key-mode unknown --key-length 3-8 \
    --plaintext english --two-pass --no-feed-location --layers 1 --hidden 64 --seq-len 200 \
    --batch-size 32 --steps 1500 --schedule cosine --eval-every 250 --val-examples 500
run beaufort_2pass_periodic 200,2000 --cipher beaufort --key-mode unknown --key-length 3-8 \
    --plaintext english --two-pass --key-pooling periodic --layers 1 --hidden 64 --seq-len 200 \
    --batch-size 32 --steps 1500 --schedule cosine --eval-every 250 --val-examples 500
unset OMP_NUM_THREADS MKL_NUM_THREADS  # the substitution run had the two cores to itself
run sub_2pass_symbol 100,256,1000 --cipher substitution --key-mode unknown --plaintext english \
    --two-pass --key-pooling symbol --no-feed-location --layers 1 --hidden 64 --seq-len 256 \
    --batch-size 32 --steps 1500 --schedule cosine --eval-every 250 --val-examples 500
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
run sub_2pass_symbol_3k 100,256,1000 --cipher substitution --key-mode unknown \
    --plaintext english --two-pass --key-pooling symbol --no-feed-location --layers 1 \
    --hidden 64 --seq-len 256 --batch-size 32 --steps 3000 --schedule cosine --eval-every 500 \
    --val-examples 500
python benchmarks/decipher_families/enigma_bound.py --twins 1000 \
    --json benchmarks/decipher_families/enigma-bound.json
