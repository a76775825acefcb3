#!/usr/bin/env bash
# A 1 GB text file trains with bounded resident memory: build the file (Tiny Shakespeare
# repeated), then time the whole `rnnlab lm train` (encoding the corpus included) under
# /usr/bin/time -v, which reports the peak resident set size.
set -euo pipefail
work=${WORK:-/tmp/rnnlab_lm_memory}
mkdir -p "$work"
big="$work/big.txt"
if [ ! -f "$big" ]; then
  src=$(python -c "from rnnlab.data.corpus import shipped_corpus; print(shipped_corpus())")
  for _ in $(seq 1 900); do cat "$src"; done > "$big"   # 900 x 1,115,394 = 1.004 GB
fi
ls -l "$big"
export RNNLAB_CACHE="$work/cache"
rm -rf "$work/cache" "$work/run"
/usr/bin/time -v rnnlab lm train --data "$big" --steps 500 --eval-every 500 \
  --out "$work/run" --quiet 2> "$work/time.txt"
grep -E "Maximum resident set size|Elapsed \(wall clock\)" "$work/time.txt"
# the numbers, with the machine, for README.md to quote
python - "$work/time.txt" <<'PY'
import json, os, platform, re, sys
text = open(sys.argv[1]).read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
wall = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", text).group(1)
json.dump({"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
           "file_bytes": os.path.getsize(os.environ.get("BIG", "/tmp/rnnlab_lm_memory/big.txt")),
           "peak_rss_mb": round(rss_kb / 1024), "wall": wall},
          open("benchmarks/lm_memory/results-cpu.json", "w"), indent=2)
PY
