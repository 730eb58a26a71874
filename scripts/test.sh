#!/usr/bin/env bash
# One command from a fresh clone to a tested build: installs what is missing, builds, and runs
# the whole suite (unit, multi-rank MPI and end-to-end tests) with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
source scripts/mpi-env.sh
cd "${BUILD_DIR:-build}"
# ctest exits non-zero when a test fails or when no test ran; both must fail this script.
ctest --output-on-failure --no-tests=error -j "$(nproc)" "$@"
