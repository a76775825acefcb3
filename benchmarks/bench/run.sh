#!/usr/bin/env bash
# Records `rnnlab bench` on this machine into benchmarks/bench/ (run from the repository
# root, with rnnlab importable). The load average before and after goes beside the results:
# on a shared machine it says how much to trust the absolute numbers (ratios are interleaved
# in one process, so they hold up better than chars/s).
set -euo pipefail
cd "$(dirname "$0")"
device="${1:-cpu}"
uptime > "load-$device.txt"
/usr/bin/time -f "wall %e s" rnnlab bench --device "$device" --json > "results-$device.json" \
    2> "time-$device.txt"
uptime >> "load-$device.txt"
python -c "import json,sys; from rnnlab.bench import format_table; \
print(format_table(json.load(open(sys.argv[1]))))" "results-$device.json"
