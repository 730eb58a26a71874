#!/usr/bin/env bash
# The downstream example, end to end: `cmake --install` this build into a temporary prefix, build
# docs/examples/custom-kernel against it with find_package(FastGPU), run its job with the
# installed binary (the plugin's saxpy kernel) and check the results file: every subtask done and
# the metrics the kernel recorded equal to the values computed here.
#
#   custom_kernel_test.sh BUILD_DIR SOURCE_DIR [CMAKE] [SANITIZE]
# Exit 0 pass, 1 fail, 77 skipped (no python3 with h5py to read the results).
set -euo pipefail

build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
cmake=${3:-cmake}
sanitize=${4:-}
python=/usr/bin/python3
[ -x "$python" ] || python=python3

if ! "$python" -c 'import h5py' 2>/dev/null; then
  echo "SKIP: no python3 with h5py to read the results file"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fastgpu_custom_kernel.XXXXXX")
cleanup() {
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
prefix=$work/prefix
example=$work/custom-kernel

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "install $build_dir into $prefix"
"$cmake" --install "$build_dir" --prefix "$prefix" > "$work/install.log" || { cat "$work/install.log"; fail "cmake --install"; }
for file in bin/fastgpu include/fastgpu/kernel.hpp include/fastgpu/config.hpp share/fastgpu/fastgpu.sbatch \
            lib/cmake/FastGPU/FastGPUConfig.cmake lib/cmake/FastGPU/FastGPUConfigVersion.cmake; do
  [ -e "$prefix/$file" ] || fail "not installed: $file"
done
# Only the public headers: nothing from src/.
if find "$prefix/include" -name '*.hpp' | grep -v '/include/fastgpu/[^/]*\.hpp$'; then
  fail "internal headers were installed (above)"
fi

step "build the example against it"
cp -r "$source_dir/docs/examples/custom-kernel" "$example"
rm -rf "$example/build"
# The same compilers as this build; with sanitizers, the same -fsanitize (the installed static
# libraries need its runtime).
compilers=()
[ -n "${CC:-}" ] || compilers+=("-DCMAKE_C_COMPILER=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt")")
[ -n "${CXX:-}" ] || compilers+=("-DCMAKE_CXX_COMPILER=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt")")
flags=()
if [ -n "$sanitize" ]; then
  flags+=("-DCMAKE_CXX_FLAGS=-fsanitize=$sanitize" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=$sanitize"
          "-DCMAKE_MODULE_LINKER_FLAGS=-fsanitize=$sanitize")
fi
"$cmake" -S "$example" -B "$example/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  "${compilers[@]}" "${flags[@]}" > "$work/configure.log" 2>&1 || { cat "$work/configure.log"; fail "configure the example"; }
"$cmake" --build "$example/build" -j 2 > "$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build the example"; }
[ -f "$example/build/libmy_kernels.so" ] || fail "no build/libmy_kernels.so"

# Run from elsewhere: the plugin path in job.toml is taken from the job file's directory.
cd "$work"

step "list_subtasks (linked with FastGPU::core) reads the job and its plugin"
"$example/build/list_subtasks" "$example/job.toml" > "$work/list.txt" || { cat "$work/list.txt"; fail "list_subtasks"; }
cat "$work/list.txt"
grep -qx "plugin $example/build/libmy_kernels.so" "$work/list.txt" || fail "list_subtasks did not load the plugin"
[ "$(grep -c 'kernel saxpy' "$work/list.txt")" = 6 ] || fail "list_subtasks: not 6 saxpy subtasks"

step "fastgpu validate"
"$prefix/bin/fastgpu" validate "$example/job.toml" || fail "fastgpu validate"

step "a wrong arg is refused at its place"
sed 's/^n = "{n}"/m = "{n}"/' "$example/job.toml" > "$example/bad.toml"
set +e
"$prefix/bin/fastgpu" validate "$example/bad.toml" > "$work/bad.txt" 2>&1
status=$?
set -e
cat "$work/bad.txt"
[ "$status" = 2 ] || fail "validate of a bad arg exited $status, not 2"
grep -q "bad.toml:14:1: unknown arg 'm' for kernel 'saxpy'" "$work/bad.txt" || fail "no file:line:column for the bad arg"

step "fastgpu run"
set +e
"$prefix/bin/fastgpu" run "$example/job.toml" -o "$work/out.h5" --workers 2
status=$?
set -e
[ -f "$work/out.h5" ] || fail "no results file (exit $status)"

step "check the results"
"$python" - "$work/out.h5" <<'PY'
import json
import sys

import h5py

def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)

failures = []
with h5py.File(sys.argv[1], "r") as f:
    tasks = f["tasks"][...]
    enum = h5py.check_enum_dtype(f["tasks"].dtype["status"]) or {"done": 2}
    status_names = {value: name for name, value in enum.items()}
    attempts = f["attempts"][...]
    metrics = f["outputs/metrics"][...]
    if len(tasks) != 6:
        failures.append(f"{len(tasks)} subtasks, not 6")
    for row, task in enumerate(tasks):
        params = json.loads(text(task["params"]))
        a, n = float(params["a"]), int(params["n"])
        status = status_names.get(int(task["status"]), int(task["status"]))
        if status != "done":
            tails = [text(f["outputs/stderr"][i]) + text(f["outputs/stdout"][i])
                     for i, att in enumerate(attempts) if int(att["task"]) == row]
            failures.append(f"task {text(task['id'])}: {status}, not done; attempts said: {tails}")
            continue
        expected = {"sum": a * n * (n - 1) / 2 + n, "last": a * (n - 1) + 1}
        got = {text(m["name"]): float(m["value"]) for m in metrics if int(m["task"]) == row}
        for name, value in expected.items():
            if name not in got:
                failures.append(f"task {text(task['id'])}: no metric '{name}' (has {sorted(got)})")
            elif abs(got[name] - value) > 1e-9 * max(1.0, abs(value)):
                failures.append(f"task {text(task['id'])}: {name} = {got[name]}, expected {value}")
        print(f"{text(task['id']):>14}: done, sum {got.get('sum')}, last {got.get('last')}")
    job_status = text(f["job"].attrs.get("status", b"?"))
    if job_status != "done":
        failures.append(f"/job status is {job_status}, not done")
if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
PY
[ "$status" = 0 ] || fail "fastgpu run exited $status, not 0"
echo "PASS"
