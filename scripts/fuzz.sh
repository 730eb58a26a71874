#!/usr/bin/env bash
# Fuzzes the job-file parser with libFuzzer for a bounded time: builds src/job and
# tests/fuzz/job_parser_fuzz.cpp with clang, AddressSanitizer and UndefinedBehaviorSanitizer into
# build-fuzz/ (FASTGPU_FUZZ: no MPI, HDF5 or tests), seeds from every job file in the repository
# (jobs/, tests/data/job/, tests/data/bad-jobs/) and runs.
#
#   bash scripts/fuzz.sh            # 60 seconds
#   FUZZ_SECONDS=600 bash scripts/fuzz.sh
#   bash scripts/fuzz.sh -runs=1000 # extra arguments go to libFuzzer
#
# A finding (crash, sanitizer report, an exception other than JobFileError/UsageError escaping,
# a timeout, too much memory) stops the run with the input saved as build-fuzz/artifacts/crash-*
# (or timeout-*, oom-*) and this script exits non-zero; reproduce it with
#   build-fuzz/job_parser_fuzz build-fuzz/artifacts/crash-...
# then fix it and add the input to tests/data/bad-jobs (with its '# expect:' line) or tests/data/job.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}

if ! command -v clang++ >/dev/null; then
  bash scripts/install-deps.sh
fi

CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFASTGPU_FUZZ=ON \
  -DFASTGPU_SANITIZE=address,undefined,fuzzer-no-link >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target job_parser_fuzz

# Seeds are copied (libFuzzer adds what it finds to the first folder; the repository stays as it is).
seeds="$build_dir/seeds"
corpus="$build_dir/corpus"
artifacts="$build_dir/artifacts"
rm -rf "$seeds"
mkdir -p "$seeds" "$corpus" "$artifacts"
cp jobs/*.toml tests/data/job/*.toml tests/data/bad-jobs/*.toml "$seeds/"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
echo "fuzz: job_parser_fuzz for ${seconds}s ($(ls "$seeds" | wc -l) seeds, corpus in $corpus)"
"$build_dir/job_parser_fuzz" "$corpus" "$seeds" \
  -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict=tests/fuzz/toml.dict -artifact_prefix="$artifacts/" -print_final_stats=1 "$@"
