#!/usr/bin/env bash
# One command from a fresh clone to a finished job: installs what is missing, builds, and runs
# jobs/quickstart.toml under mpirun (1 scheduler rank + 2 workers), then summarizes the results.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
source scripts/mpi-env.sh

results=results/quickstart.h5
rm -f "$results"
echo "+ mpirun -np 3 build/fastgpu run jobs/quickstart.toml -o $results"
status=0
mpirun -np 3 build/fastgpu run jobs/quickstart.toml -o "$results" || status=$?
echo
echo "+ build/fastgpu inspect $results"
build/fastgpu inspect "$results"
echo
echo "Results: $PWD/$results (open with h5dump, h5py or fastgpu inspect);"
echo "each subtask's own output is under $PWD/results/quickstart.outputs/"
exit "$status"
