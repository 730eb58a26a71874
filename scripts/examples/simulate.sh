#!/bin/sh
# A stand-in for a real GPU program, used by jobs/quickstart.toml: it "simulates" a model of a
# given size, writes a result file, and reports metrics FastGPU records in the results file.
set -eu
model=$1 size=$2 out=$3
mkdir -p "$(dirname "$out")"
echo "simulating $model model of size $size on ${CUDA_VISIBLE_DEVICES:-cpu} (worker ${FASTGPU_WORKER:-none})"
i=0 acc=0
while [ "$i" -lt $((size * 20000)) ]; do acc=$(( (acc + i * i) % 1000003 )); i=$((i + 1)); done
case $model in
  linear) loss=$(awk "BEGIN { print 1.0 / ($size + 1) }") ;;
  *) loss=$(awk "BEGIN { print 1.0 / ($size * $size + 1) }") ;;
esac
echo "model=$model size=$size checksum=$acc loss=$loss" > "$out"
echo "FASTGPU_METRIC loss=$loss"
echo "FASTGPU_METRIC checksum=$acc"
