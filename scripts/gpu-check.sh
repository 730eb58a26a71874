#!/usr/bin/env bash
# The GPU checks, in one run on the GPU machine (see ../shared/device/README.md): the CUDA-vs-CPU
# unit tests, montecarlo pi on a CUDA worker in-process and under mpirun (NCCL with one rank),
# dp_train on one GPU, and the gemm efficiency bench against a standalone cuBLAS loop.
#
# Here (the development machine), build and pack; the bundle needs these binaries:
#
#   cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES=90 -DFASTGPU_ENABLE_CUDA=ON
#   cmake --build build-gpu -j2 --target fastgpu fastgpu_unit_kernels fastgpu_unit_device fastgpu_bench_gemm_loop
#   bash ../shared/device/make-runtime-bundle.sh build-gpu/fastgpu build-gpu/tests/fastgpu_unit_kernels \
#     build-gpu/tests/fastgpu_unit_device build-gpu/tests/fastgpu_bench_gemm_loop
#
# There, from the repository root with .gpu/ and build-gpu/ copied in:
#
#   source .gpu/env.sh && bash scripts/gpu-check.sh [BUILD_DIR]
#
# BUILD_DIR (argument, else $BUILD_DIR, else build-gpu) holds the binaries; no ctest (the build
# tree's absolute paths are this machine's). What is kept goes to $OUT (default /tmp/gpu-check):
# one log per step, the results files, summary.txt. A step that fails is reported and the next one
# runs; the exit status is 1 when any step failed. Every step has a timeout, and the whole run
# stops starting steps once GPU_CHECK_BUDGET_S (default 420) seconds have passed, so it ends well
# inside 8 minutes. On a machine without a GPU the Gpu* tests skip and the runs use the CPU.
#
# Knobs for a quick run: GEMM_SIZES ("4096 8192"), GEMM_PRECISIONS ("double float"),
# GEMM_COUNT (20), GEMM_REPEATS (3).
set -uo pipefail
cd "$(dirname "$0")/.."

build=${1:-${BUILD_DIR:-build-gpu}}
build=${build%/}
out=${OUT:-/tmp/gpu-check}
budget=${GPU_CHECK_BUDGET_S:-420}
gemm_sizes=${GEMM_SIZES:-4096 8192}
gemm_precisions=${GEMM_PRECISIONS:-double float}
gemm_count=${GEMM_COUNT:-20}
gemm_repeats=${GEMM_REPEATS:-3}
fastgpu=$build/fastgpu
mkdir -p "$out" || { echo "gpu-check: cannot create $out" >&2; exit 2; }
# Open MPI refuses root without these (.gpu/env.sh sets them too).
export OMPI_ALLOW_RUN_AS_ROOT=${OMPI_ALLOW_RUN_AS_ROOT:-1} OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=${OMPI_ALLOW_RUN_AS_ROOT_CONFIRM:-1}
started=$SECONDS

results=()  # "name|status|seconds" per step
failed=0

# step NAME TIMEOUT_S COMMAND...: runs COMMAND under a timeout (cut to what is left of the budget),
# its output to the screen and to $out/NAME.log, and records how it went.
step() {
  local name=$1 limit=$2
  shift 2
  local left=$((budget - (SECONDS - started)))
  if ((left < 10)); then
    echo "=== $name: not run (the ${budget}s budget is spent)"
    results+=("$name|NOT RUN (budget)|0")
    failed=1
    return 1
  fi
  ((limit > left)) && limit=$left
  echo "=== $name (timeout ${limit}s): $*"
  local t0=$SECONDS rc
  if declare -F "$1" >/dev/null; then  # a function of this script (exported below): in a child bash
    timeout --kill-after=10 "$limit" bash -c '"$@"' _ "$@" 2>&1 | tee "$out/$name.log"
  else
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$out/$name.log"
  fi
  rc=${PIPESTATUS[0]}
  local status="ok"
  if ((rc == 124 || rc == 137)); then
    status="TIMEOUT after ${limit}s"
  elif ((rc != 0)); then
    status="FAILED (exit $rc)"
  fi
  local skipped
  skipped=$(grep -c '^\[  SKIPPED \] .*(' "$out/$name.log" 2>/dev/null)
  if ((rc == 0 && skipped > 0)); then
    if ((have_gpu)); then status="ok, but $skipped test(s) SKIPPED on a GPU machine"; else status="ok ($skipped skipped: no GPU)"; fi
  fi
  [[ $status == ok* ]] || failed=1
  results+=("$name|$status|$((SECONDS - t0))")
  echo "--- $name: $status ($((SECONDS - t0))s)"
  [[ $status == ok* ]]
}

# reduction FILE NAME: the value of /reductions/NAME in a results file (no h5dump there).
reduction() {
  [[ -f $1 ]] || { echo "no results file $1" >&2; return 1; }
  "$fastgpu" inspect "$1" --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
for r in doc.get("reductions", []):
    if r["name"] == sys.argv[1]:
        print(repr(r["values"][0]) if len(r["values"]) == 1 else r["values"])
        sys.exit(0)
sys.exit("no reduction " + sys.argv[1])' "$2"
}

# workers FILE: each worker's rank, device and GPU, and the job's status.
workers() {
  [[ -f $1 ]] || { echo "no results file $1" >&2; return 1; }
  "$fastgpu" inspect "$1" --json | python3 -c '
import json, sys
doc = json.load(sys.stdin)
print("job status:", doc["job"]["status"], " subtasks:", doc.get("counts"))
for w in doc.get("workers", []):
    print("  worker", w["rank"], w["host"], w["device"], w.get("gpu_name", ""))'
}

# check_pi FILE: the run's workers and its /reductions/pi.
check_pi() {
  workers "$1" && echo "/reductions/pi = $(reduction "$1" pi)"
}

# same_pi FILE FILE: both runs' /reductions/pi, which must be the same bits.
same_pi() {
  local first second
  first=$(reduction "$1" pi) && second=$(reduction "$2" pi) || return 1
  echo "pi: $1 $first, $2 $second"
  [[ $first == "$second" ]]
}

# losses FILE...: each dp_train subtask's status and losses.
losses() {
  local file
  for file in "$@"; do
    [[ -f $file ]] || { echo "no results file $file" >&2; return 1; }
    "$fastgpu" inspect "$file" --tasks-csv "$file.csv" >/dev/null || return 1
    echo "$file:"
    python3 -c '
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for row in rows:
    print("  %-16s %-6s loss_first %s loss_final %s" % (row["id"], row["status"], row.get("loss_first"), row.get("loss_final")))
sys.exit(0 if rows and all(r["status"] == "done" for r in rows) else 1)' "$file.csv" || return 1
  done
}
export -f reduction workers check_pi same_pi losses
export fastgpu

echo "gpu-check: $(date -u +%FT%TZ) on $(hostname), build $build, output $out"
for binary in "$fastgpu" "$build/tests/fastgpu_unit_kernels" "$build/tests/fastgpu_unit_device" \
              "$build/tests/fastgpu_bench_gemm_loop"; do
  [[ -x $binary ]] || echo "gpu-check: WARNING: $binary is missing (the steps that need it fail)"
done
echo "mpirun: $(command -v mpirun || echo 'not found (source .gpu/env.sh)')"

# 1. The card.
have_gpu=0
if nvidia-smi -L >/dev/null 2>&1; then have_gpu=1; fi
step gpu 30 bash -c 'nvidia-smi -L && nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap,clocks.max.sm --format=csv'
((have_gpu)) || echo "gpu-check: no GPU found: the Gpu* tests skip and the runs use the CPU"

# 2. CUDA against the CPU, in the unit tests.
step unit_kernels 150 "$build/tests/fastgpu_unit_kernels" --gtest_filter='Gpu*' --gtest_output="xml:$out/unit_kernels.xml"
step unit_device 150 "$build/tests/fastgpu_unit_device" --gtest_filter='Gpu*' --gtest_output="xml:$out/unit_device.xml"

# 3. montecarlo pi on one CUDA worker, in-process and under mpirun (rank 0 schedules, rank 1 works:
#    NCCL with one rank). The two /reductions/pi must be the same bits.
rm -f "$out/pi.h5" "$out/pi_mpi.h5"
step pi_threads 90 "$fastgpu" run jobs/montecarlo_pi.toml -o "$out/pi.h5" --workers 1 --quiet
step pi_threads_result 30 check_pi "$out/pi.h5"
step pi_mpirun 120 mpirun --oversubscribe -np 2 "$fastgpu" run jobs/montecarlo_pi.toml -o "$out/pi_mpi.h5" --quiet
step pi_mpirun_result 30 check_pi "$out/pi_mpi.h5"
step pi_same_bits 30 same_pi "$out/pi.h5" "$out/pi_mpi.h5"

# 4. dp_train on one GPU per subtask (jobs/dp_train.toml has gpus = 2, and one GPU allows one NCCL
#    rank): the same kernel and args, gpus = 1, fewer subtasks.
cat >"$out/dp_train_1gpu.toml" <<'TOML'
[job]
name = "dp_train_1gpu"
output = "dp_train_1gpu.h5"

[task]
kernel = "dp_train"
gpus = 1

[task.args]
samples = "4096"
features = "16"
steps = "200"
lr = "{lr}"
seed = "{seed}"

[sweep]
lr = [0.5, 2.0]
seed = [1]
TOML
rm -f "$out/dp_train.h5" "$out/dp_train_mpi.h5"
step dp_train_threads 90 "$fastgpu" run "$out/dp_train_1gpu.toml" -o "$out/dp_train.h5" --workers 1 --quiet
step dp_train_mpirun 120 mpirun --oversubscribe -np 2 "$fastgpu" run "$out/dp_train_1gpu.toml" -o "$out/dp_train_mpi.h5" --quiet
step dp_train_result 30 losses "$out/dp_train.h5" "$out/dp_train_mpi.h5"

# 5. gemm through FastGPU against the standalone loop (cuBLAS on the GPU), and the loop alone.
for n in $gemm_sizes; do
  for precision in $gemm_precisions; do
    step "gemm_${precision}_$n" 150 env BUILD_DIR="$build" GEMM_BENCH_KEEP="$out/gemm_${precision}_$n.h5" \
      bash scripts/bench/gemm-efficiency.sh "$n" "$gemm_count" "$gemm_repeats" "$precision"
  done
done
for n in $gemm_sizes; do
  step "loop_double_$n" 60 "$build/tests/fastgpu_bench_gemm_loop" "$n" "$gemm_count" double
done

# Summary.
{
  echo
  echo "=== gpu-check summary ($(date -u +%FT%TZ), $((SECONDS - started))s, build $build)"
  nvidia-smi -L 2>/dev/null || echo "no GPU (nvidia-smi -L failed)"
  printf '%-24s %6s  %s\n' step seconds status
  for r in "${results[@]}"; do
    IFS='|' read -r name status seconds <<<"$r"
    printf '%-24s %6s  %s\n' "$name" "$seconds" "$status"
  done
  echo "pi: in-process $(reduction "$out/pi.h5" pi 2>/dev/null || echo '?'), mpirun $(reduction "$out/pi_mpi.h5" pi 2>/dev/null || echo '?')"
  for n in $gemm_sizes; do
    for precision in $gemm_precisions; do
      log=$out/gemm_${precision}_$n.log
      [[ -f $log ]] && grep -E '^gemm |ratio|per subtask|between' "$log" | sed 's/^/  /'
    done
  done
  echo "logs and results files: $out"
} | tee "$out/summary.txt"
exit "$failed"
