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
# Neural vs classical: the same 30 messages per cell (seed 0) read by networks trained with
# seeds 0, 1, 2 (benchmarks/seeds/run.py --only CASE --keep DIR), e.g.
# CAESAR_NETS="DIR/caesar_az_tagger_cosine-seed0 ..." benchmarks/crack/seeds.sh TEXT ""
# VIGENERE_NETS / SUBSTITUTION_NETS: the two-pass runs (cases vigenere_two_pass and
# substitution_two_pass). The classical column does not change with the network, so it is
# read once (the first recorded run) and not beside every network. The substitution hybrid
# (network's key -> hill climb, up to 5 s a message: minutes a network, alone on the
# machine) is read beside SUBSTITUTION_NETS only with SUBSTITUTION_HYBRID=1, and always
# beside the networks below. Each list gets its own files, neural-<name>-net*.json:
#   VIGENERE_TAGGER_NETS, SUBSTITUTION_TAGGER_NETS: the old one-pass taggers (cases
#     vigenere_unknown_tagger, substitution_unknown_tagger), names <family>-tagger;
#   SUBSTITUTION_1500_NETS: the 1,500-step two-pass networks (substitution_two_pass_1500),
#     the start of the second substitution table's hybrid column, name substitution-1500.
read_networks() {  # name (file names), family, networks, extra run.py flags
    local name=$1 family=$2 nets=$3 i=0
    shift 3
    for net in $nets; do
        python "$here/run.py" --text "$text" --n 30 --seed 0 --models "$family=$net" \
            --skip "$all_classical,identify$*" --out "$out/neural-$name-net$i.json"
        i=$((i + 1))
    done
    python "$here/seeds.py" --out "$here/seeds-neural-$name.json" "$out/neural-$name"-net*.json
}
if [ -n "${CAESAR_NETS:-}" ]; then read_networks caesar caesar "$CAESAR_NETS"; fi
if [ -n "${VIGENERE_NETS:-}" ]; then
    read_networks vigenere vigenere "$VIGENERE_NETS" ,paired-classical
fi
if [ -n "${SUBSTITUTION_NETS:-}" ]; then
    hybrid=$([ "${SUBSTITUTION_HYBRID:-0}" = 1 ] || echo ,paired-hybrid)
    read_networks substitution substitution "$SUBSTITUTION_NETS" ",paired-classical$hybrid"
fi
if [ -n "${VIGENERE_TAGGER_NETS:-}" ]; then
    read_networks vigenere-tagger vigenere "$VIGENERE_TAGGER_NETS" ,paired-classical
fi
if [ -n "${SUBSTITUTION_TAGGER_NETS:-}" ]; then
    read_networks substitution-tagger substitution "$SUBSTITUTION_TAGGER_NETS" ,paired-classical
fi
if [ -n "${SUBSTITUTION_1500_NETS:-}" ]; then
    read_networks substitution-1500 substitution "$SUBSTITUTION_1500_NETS" ,paired-classical
fi
