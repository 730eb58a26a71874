#!/usr/bin/env bash
# scripts/bench/sim-scale.py end to end on a tiny grid (2 pool sizes x 2 job sizes): it runs the
# build's fastgpu_bench_sim once per configuration and writes the table and the plot.
# Usage: sim_scale_test.sh BUILD_DIR SOURCE_DIR. Exit 77 (skipped) without python3-matplotlib.
set -euo pipefail
build=$1 source=$2
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || { echo "skipped: no python3-matplotlib"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
/usr/bin/python3 "$source/scripts/bench/sim-scale.py" --build "$build" --workers 4,8 --subtasks 40,80 --out "$out"
rows=$(grep -c '^| [0-9]' "$out/sim-scale.md")
[ "$rows" -eq 4 ] || { echo "expected 4 rows in the table, found $rows"; cat "$out/sim-scale.md"; exit 1; }
for config in "| 4 | 40 |" "| 8 | 40 |" "| 4 | 80 |" "| 8 | 80 |"; do
  grep -qF "$config" "$out/sim-scale.md" || { echo "no row for $config"; exit 1; }
done
grep -q '<svg' "$out/sim-scale.svg" || { echo "sim-scale.svg is not an SVG"; exit 1; }
echo "sim-scale: table of 4 rows and plot made"
