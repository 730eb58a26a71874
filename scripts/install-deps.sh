#!/usr/bin/env bash
# Installs FastGPU's build and test dependencies from Debian packages. Idempotent: packages
# already present are skipped, and nothing runs when all are there.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libopenmpi-dev openmpi-bin            # MPI transport, mpirun
  libhdf5-dev hdf5-tools                # results file, h5dump
  zlib1g-dev                            # crc32 of the results journal
  libboost-program-options-dev          # command line
  libgtest-dev libgmock-dev             # tests
  libtomlplusplus-dev                   # job files (errors with line:column)
  nlohmann-json3-dev                    # JSON for params and `inspect --json`
  libopenblas-dev                       # CBLAS for the gemm kernel's CPU path (src/kernels)
  libhwloc-dev                          # worker placement near its GPU, thread pinning (src/device/topology.cpp)
  python3 python3-h5py python3-numpy    # tests and tutorial read results with h5py
  python3-matplotlib                    # scripts/fastgpu_results.py plot-utilization
  chromium                              # tests render `inspect --gantt` SVGs headless
  parallel                              # benchmark baseline (GNU parallel)
  python3-mpi4py                        # benchmark baseline (mpi4py.futures, scripts/bench/run-all)
  procps                                # pkill, used by a test to clean up
  clang libclang-rt-14-dev              # scripts/fuzz.sh: clang and libFuzzer's runtime
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
