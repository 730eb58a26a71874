#!/usr/bin/env bash
# gemm through FastGPU against a standalone multiply loop on the same device (cuBLAS on a GPU,
# OpenBLAS on the CPU), in the same run, interleaved, medians of REPEATS. FastGPU runs COUNT
# `gemm` subtasks of N x N on one worker (each makes its inputs, multiplies once, checks the sum
# of C and records it in HDF5); the loop (tests/bench/gemm_loop.cpp) multiplies COUNT times with
# inputs made once. Both are timed from outside, process start-up included, so the ratio is what
# a user gets: the issue's target on a GPU is >= 0.95.
#
# It also breaks the last FastGPU run down per subtask (from its results file): the subtask's time
# on the worker, the multiplies in it (the kernel's `seconds`), the rest (inputs, checksum,
# allocation, recording), and the gap from one subtask's end to the next one's start, medians.
#
#   usage: scripts/bench/gemm-efficiency.sh [N [COUNT [REPEATS [double|float]]]]
#          (defaults: 2048, 20, 3, double)
#   BUILD_DIR (default build) is built first with scripts/build.sh when a binary is missing.
#   GEMM_BENCH_KEEP=FILE.h5 keeps the last FastGPU run's results file.
set -euo pipefail
cd "$(dirname "$0")/../.."

n=${1:-2048}
count=${2:-20}
repeats=${3:-3}
precision=${4:-double}
build_dir=${BUILD_DIR:-build}
fastgpu=$build_dir/fastgpu
gemm_loop=$build_dir/tests/fastgpu_bench_gemm_loop
if ! [[ $n =~ ^[1-9][0-9]*$ && $count =~ ^[1-9][0-9]*$ && $repeats =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [N [COUNT [REPEATS [double|float]]]]  (positive integers)" >&2
  exit 2
fi
if [[ ! -x $fastgpu || ! -x $gemm_loop ]]; then
  BUILD_DIR=$build_dir bash scripts/build.sh >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/job.toml" <<EOF
[job]
name = "gemm_bench"
[task]
kernel = "gemm"
[task.args]
n = "$n"
precision = "$precision"
[sweep]
i = { range = [0, $count] }
EOF

now() { date +%s.%N; }
gflops() { python3 -c "print(2 * $n**3 * $count / ($2 - $1) / 1e9)"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }

fast=() loop=() device=""
for ((r = 0; r < repeats; r++)); do
  t=$(now); "$fastgpu" run "$tmp/job.toml" --workers 1 -o "$tmp/run$r.h5" --quiet; fast+=("$(gflops "$t" "$(now)")")
  t=$(now); line=$("$gemm_loop" "$n" "$count" "$precision"); loop+=("$(gflops "$t" "$(now)")")
  device=${line%% seconds=*}
done
m_fast=$(median "${fast[@]}")
m_loop=$(median "${loop[@]}")
echo "gemm $precision n=$n x $count, $device, medians of $repeats (GFLOP/s, wall clock incl. start-up)"
echo "  fastgpu run, 1 worker:  $m_fast   (runs: ${fast[*]})"
echo "  standalone loop:        $m_loop   (runs: ${loop[*]})"
python3 -c "print(f'  ratio fastgpu / loop:   {$m_fast / $m_loop:.3f}')"

last=$tmp/run$((repeats - 1)).h5
"$fastgpu" inspect "$last" --tasks-csv "$tmp/tasks.csv" >/dev/null
python3 - "$tmp/tasks.csv" <<'PY'
import csv, statistics, sys
rows = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: float(r["start"]))
ms = lambda values: statistics.median(values) * 1e3
duration = [float(r["end"]) - float(r["start"]) for r in rows]
multiply = [float(r["seconds"]) for r in rows]
gaps = [float(b["start"]) - float(a["end"]) for a, b in zip(rows, rows[1:])]
print(f"  per subtask (last run, medians): {ms(duration):.3f} ms on the worker, multiply {ms(multiply):.3f} ms, "
      f"rest {ms([d - m for d, m in zip(duration, multiply)]):.3f} ms")
if gaps:
    print(f"  between subtasks (end to next start): median {ms(gaps):.3f} ms, max {max(gaps) * 1e3:.3f} ms")
PY
if [[ -n ${GEMM_BENCH_KEEP:-} ]]; then cp "$last" "$GEMM_BENCH_KEEP"; fi
