#!/usr/bin/env bash
# Command subtask throughput: how many /bin/true subtasks per second FastGPU runs with 2 workers,
# against the bare posix_spawn+waitpid limit of this machine and against GNU parallel -j2, all in
# the same run, the variants interleaved in each repeat (the order rotates from one repeat to the
# next) so that noise from a shared machine falls on all of them alike. Prints medians.
#
#   usage: scripts/bench/command-throughput.sh [N [REPEATS]]    (defaults: 5000 subtasks, 5 repeats)
#   BUILD_DIR (default build) is built first with scripts/build.sh when a binary is missing;
#   FASTGPU_BIN (default $BUILD_DIR/fastgpu) picks another fastgpu binary, e.g. an older build.
#
# Every variant runs exactly `/bin/true` with no argument: GNU true given one argument (it could be
# --help) sets up its locale first, which makes it markedly slower, so the job file passes none and
# GNU parallel gets -N0 (read an input line, insert nothing).
#
# Every time is wall-clock time measured from outside: process start-up, mpirun, reading the job
# file and writing the HDF5 results file are included.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh

n=${1:-5000}
repeats=${2:-5}
workers=2
build_dir=${BUILD_DIR:-build}
fastgpu=${FASTGPU_BIN:-$build_dir/fastgpu}
spawn_loop=$build_dir/tests/fastgpu_bench_spawn_loop

if ! [[ $n =~ ^[1-9][0-9]*$ && $repeats =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 [N [REPEATS]]  (positive integers)" >&2
  exit 2
fi
if [[ ! -x $fastgpu || ! -x $spawn_loop ]]; then
  BUILD_DIR=$build_dir bash scripts/build.sh >&2
fi
command -v parallel >/dev/null || { echo "GNU parallel is missing (apt-get install parallel)" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "mpirun is missing (apt-get install openmpi-bin)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/job.toml" <<EOF
[job]
name = "bench"

[task]
command = ["/bin/true"]  # the sweep only sets how many subtasks there are

[sweep]
i = { range = [0, $n] }
EOF

# Variants: name, then the command. Each must run N /bin/true and exit 0.
names=(
  "bare spawn loop, 1 process (limit per worker)"
  "bare spawn loop, $workers processes"
  "fastgpu run --workers $workers (threads)"
  "mpirun -np $((workers + 1)) fastgpu run (MPI)"
  "GNU parallel -j$workers"
)
run_variant() {
  case $1 in
    0) "$spawn_loop" "$n" >/dev/null ;;
    1) "$spawn_loop" "$n" --procs "$workers" >/dev/null ;;
    2) "$fastgpu" run "$tmp/job.toml" -o "$tmp/threads.h5" --force --quiet --workers "$workers" ;;
    3) mpirun -np $((workers + 1)) "$fastgpu" run "$tmp/job.toml" -o "$tmp/mpi.h5" --force --quiet ;;
    4) seq "$n" | parallel --will-cite -j"$workers" -N0 /bin/true ;;
  esac
}

now() { date +%s.%N; }

echo "# command-throughput: N=$n /bin/true subtasks, $repeats repeats, $workers workers"
echo "# command: ${FASTGPU_BIN:+FASTGPU_BIN=$FASTGPU_BIN }scripts/bench/command-throughput.sh $n $repeats"
echo "# date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "# tools:   $(mpirun --version | head -1), $(parallel --version | head -1), $("$fastgpu" --version 2>/dev/null || echo 'fastgpu ?')"
echo

declare -A rates  # variant index -> space-separated rates (subtasks/s)
count=${#names[@]}
for ((r = 0; r < repeats; r++)); do
  for ((k = 0; k < count; k++)); do
    v=$(((k + r) % count))
    start=$(now)
    run_variant "$v"
    end=$(now)
    rate=$(awk -v n="$n" -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", n / (e - s) }')
    rates[$v]+="$rate "
    printf 'repeat %d/%d  %-48s %8.1f subtasks/s\n' $((r + 1)) "$repeats" "${names[$v]}" "$rate" >&2
  done
done

# median / min / max of a list of numbers
stats() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END {
  m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
  printf "%s %s %s", m, a[1], a[NR] }'; }

read -r limit_median limit_lo limit_hi <<<"$(stats <<<"${rates[0]}")"
read -r parallel_median _ _ <<<"$(stats <<<"${rates[4]}")"
limit=$(awk -v l="$limit_median" -v w="$workers" 'BEGIN { print l * w }')

row() {  # name median min max
  awk -v name="$1" -v m="$2" -v lo="$3" -v hi="$4" -v limit="$limit" -v par="$parallel_median" 'BEGIN {
    printf "| %-50s | %9.0f | %11s | %13s | %15s |\n", name, m, sprintf("%.0f-%.0f", lo, hi),
      sprintf("%.0f %%", 100 * m / limit), sprintf("%.1f x", m / par) }'
}
printf '| %-50s | %9s | %11s | %13s | %15s |\n' "variant (subtasks/s)" "median" "min-max" "vs limit x $workers" "vs GNU parallel"
echo "|----------------------------------------------------|----------:|------------:|--------------:|----------------:|"
row "limit x $workers (bare spawn loop, 1 process, x $workers)" "$limit" \
  "$(awk -v x="$limit_lo" -v w="$workers" 'BEGIN { print x * w }')" \
  "$(awk -v x="$limit_hi" -v w="$workers" 'BEGIN { print x * w }')"
for ((v = 0; v < count; v++)); do
  read -r median lo hi <<<"$(stats <<<"${rates[$v]}")"
  row "${names[$v]}" "$median" "$lo" "$hi"
done
echo
echo "Medians of $repeats repeats. limit x $workers = median of the 1-process bare loop x $workers; target: fastgpu >= 80 % of it."
