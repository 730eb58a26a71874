#!/usr/bin/env bash
# The whole test suite under AddressSanitizer and UndefinedBehaviorSanitizer: builds FastGPU with
# -DFASTGPU_SANITIZE=address,undefined into build-asan/ (override with BUILD_DIR, or the list with
# SANITIZE) and runs ctest there. Any sanitizer report fails the test it happens in: ASan and
# UBSan stop the process (halt_on_error), LeakSanitizer reports leaks at exit except those inside
# Open MPI, HDF5 and the other libraries listed in tests/sanitizers/lsan.supp.
#
#   bash scripts/test-sanitized.sh            # everything
#   bash scripts/test-sanitized.sh -L unit    # extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build_dir=${BUILD_DIR:-build-asan}
sanitize=${SANITIZE:-address,undefined}

bash scripts/install-deps.sh

# The same options for the build (gtest_discover_tests runs the test binaries) and the tests.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:fast_unwind_on_malloc=0:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

# -O1 -g1: what the sanitizers' own documentation suggests (line numbers in every report), and
# under ASan + UBSan less than half the compile time of -O2 -g (src/app/run_job.cpp: 54 s, 129 s).
# The tests' own code is built at -O0 (tests/CMakeLists.txt).
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} -DFASTGPU_SANITIZE="$sanitize" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"

source scripts/mpi-env.sh
cd "$build_dir"
ctest --output-on-failure --no-tests=error -j "$(nproc)" "$@"
