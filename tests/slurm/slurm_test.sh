#!/usr/bin/env bash
# FastGPU on a real Slurm: submits slurm/fastgpu.sbatch with sbatch and checks what it did.
#
#   slurm_test.sh CASE FASTGPU_BINARY SOURCE_DIR
#
# CASE: quickstart | quickstart-cpu | stop-requeue-resume | stop-requeue-resume-mpirun | requeue-cap |
# time-limit | deadline
# (see docs/testing.md).
# Exits 77 (ctest SKIP_RETURN_CODE) when there is no sbatch or no Slurm controller answers: bring
# one up with `bash scripts/slurm-local.sh up`. Each case works in its own directory under /tmp
# (kept when the case fails), and cancels its jobs when it ends.
set -euo pipefail

case_name=${1:?case} fastgpu=${2:?fastgpu binary} src=${3:?source dir}
fastgpu=$(realpath "$fastgpu") src=$(realpath "$src")
job_id=""

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; show_log >&2; exit 1; }
say() { echo "[$(date +%T)] $*"; }

command -v sbatch >/dev/null || skip "no sbatch on PATH"
node_states=$(sinfo -h -o %T 2>/dev/null) || skip "no Slurm controller answers (bash scripts/slurm-local.sh up)"
grep -qE 'idle|mixed|allocated|completing' <<<"$node_states" ||
  skip "no usable Slurm node (sinfo says: $(echo $node_states))"
[ -x "$fastgpu" ] || fail "no fastgpu binary at $fastgpu"
# Debian's python3 with python3-h5py (a python3 earlier on PATH may lack h5py).
python=/usr/bin/python3
"$python" -c 'import h5py' 2>/dev/null || python=python3
"$python" -c 'import h5py' 2>/dev/null || fail "no python3 with h5py (apt-get install python3-h5py)"

work=$(mktemp -d "/tmp/fastgpu-slurm-test.$case_name.XXXXXX")
jobs_submitted=()
cleanup() {
  local code=$? id
  for id in ${jobs_submitted[@]+"${jobs_submitted[@]}"}; do scancel "$id" 2>/dev/null || true; done
  if { [ $code -eq 0 ] || [ $code -eq 77 ]; } && [ -z "${FASTGPU_SLURM_TEST_KEEP:-}" ]; then rm -rf "$work"; else echo "kept: $work" >&2; fi
}
trap cleanup EXIT
cd "$work"
# The layout a user has: the template, the job files, the binary where the template looks for it.
ln -s "$src/slurm" slurm
ln -s "$src/scripts" scripts
mkdir -p jobs build results
ln -s "$fastgpu" build/fastgpu

show_log() { [ -n "$job_id" ] && [ -f "fastgpu-$job_id.out" ] && { echo "--- fastgpu-$job_id.out"; cat "fastgpu-$job_id.out"; } || true; }

submit() {  # sbatch arguments...; sets job_id
  job_id=$(sbatch --parsable "$@") || fail "sbatch $* failed"
  job_id=${job_id%%;*}
  jobs_submitted+=("$job_id")
  say "submitted job $job_id: sbatch $*"
}

field() {  # FIELD: from scontrol show job (kept MinJobAge=300 s after the end)
  scontrol show job -o "$job_id" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n1
}

wait_for() {  # SECONDS STATE...: until the job is in one of the states
  local limit=$1 state="" waited=0
  shift
  while [ $waited -lt $((limit * 2)) ]; do
    state=$(field JobState)
    for want in "$@"; do [ "$state" = "$want" ] && return 0; done
    ended "$state" && fail "job $job_id ended ($state, exit $(field ExitCode)), expected $*"
    sleep 0.5
    waited=$((waited + 1))
  done
  fail "job $job_id is '$state' after $limit s, expected $*"
}

ended() { case $1 in COMPLETED|FAILED|TIMEOUT|CANCELLED|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED) return 0 ;; esac; return 1; }

wait_lines() {  # FILE N SECONDS: until FILE has N lines (while the job runs)
  local waited=0
  while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ]; do
    [ $waited -lt $(($3 * 10)) ] || fail "$1 has fewer than $2 lines after $3 s"
    ended "$(field JobState)" && fail "job $job_id ended ($(field JobState), exit $(field ExitCode)) before $1 had $2 lines"
    sleep 0.1
    waited=$((waited + 1))
  done
}

# A requeued job waits for the credentials of its killed run to expire (AuthInfo=cred_expire:
# 120 s by default, 10 s on scripts/slurm-local.sh's cluster) and then starts by itself.
wait_requeued() {  # RESTARTS: until the job has been requeued that many times (and is pending)
  local waited=0
  while :; do
    if [ "$(field JobState)" = PENDING ] && [ "$(field Restarts)" = "$1" ]; then break; fi
    ended "$(field JobState)" && fail "job $job_id ended ($(field JobState), exit $(field ExitCode)) instead of being requeued"
    [ $waited -lt 120 ] || fail "job $job_id not requeued a $1. time (state $(field JobState), restarts $(field Restarts))"
    sleep 0.5
    waited=$((waited + 1))
  done
  say "job $job_id requeued ($1), pending: $(field Reason), eligible $(field EligibleTime)"
}

expect_log() {  # TEXT
  grep -qF -- "$1" "fastgpu-$job_id.out" || fail "the job's log lacks '$1'"
}

# The results file, checked through `fastgpu inspect --json`; prints
# "status done_count total failed_subtasks interrupted_attempts".
summary() {
  "$fastgpu" inspect --json "$1" >inspect.json || fail "fastgpu inspect $1 failed"
  "$python" - "$1" <<'EOF'
import json, sys
import h5py
d = json.load(open("inspect.json"))
with h5py.File(sys.argv[1], "r") as f:
    names = {v: k for k, v in h5py.check_enum_dtype(f["/attempts"].dtype["status"]).items()}
    interrupted = sum(1 for a in f["/attempts"]["status"] if names[int(a)] == "interrupted")
print(d["job"]["status"], d["counts"]["done"], len(d["tasks"]), d["counts"]["failed"], interrupted)
EOF
}
# After a stop: the file says stopped, nothing failed (the stopped subtasks were interrupted, not
# killed by the signal), and work is left.
check_stopped() {  # RESULTS TOTAL
  read -r status done1 total failed interrupted <<<"$(summary "$1")"
  [ "$status" = stopped ] || fail "after the stop the results file says '$status', not stopped"
  [ "$failed" = 0 ] || fail "$failed subtasks failed at the stop (a signal reached them?)"
  [ "$done1" -lt "$2" ] || fail "all subtasks done before the stop: nothing to resume"
  say "stopped with $done1 of $total done, $interrupted attempts interrupted, none failed"
}
done_ids() {
  "$fastgpu" inspect --json "$1" | "$python" -c '
import json, sys
for t in json.load(sys.stdin)["tasks"]:
    if t["status"] == "done": print(t["id"])'
}

# Every subtask of the ledger job appends its id to ledger.txt when it finishes. Checks: every
# id is in the ledger; an id recorded done in an earlier run (files given) appears exactly once;
# any id appears more than once only if it has that many attempts that were stopped or killed
# after it ran (interrupted), which the results file says.
check_ledger() {  # RESULTS N EARLIER_DONE_FILE...
  local results=$1 n=$2
  shift 2
  "$python" - "$results" "$n" ledger.txt "$@" <<'EOF' || fail "ledger check"
import collections, sys
import h5py
results, n, ledger = sys.argv[1], int(sys.argv[2]), sys.argv[3]
earlier = set()
for name in sys.argv[4:]:
    earlier |= set(open(name).read().split())
runs = collections.Counter(open(ledger).read().split())
with h5py.File(results, "r") as f:
    tasks = f["/tasks"][()]
    attempts = f["/attempts"][()]
    def text(v): return v.decode() if isinstance(v, bytes) else str(v)
    ids = [text(t["id"]) for t in tasks]
    task_status = tasks["status"]
    status_enum = h5py.check_enum_dtype(f["/tasks"].dtype["status"]) or {}
    attempt_enum = h5py.check_enum_dtype(f["/attempts"].dtype["status"]) or {}
    name_of = {v: k for k, v in status_enum.items()}
    attempt_name_of = {v: k for k, v in attempt_enum.items()}
    interrupted = collections.Counter()
    for a in attempts:
        if attempt_name_of.get(int(a["status"]), "") in ("interrupted", "lost"):
            interrupted[ids[int(a["task"])]] += 1
bad = []
if len(ids) != n: bad.append(f"{len(ids)} subtasks in the file, expected {n}")
for i, task_id in enumerate(ids):
    status = name_of.get(int(task_status[i]), str(task_status[i]))
    if status != "done": bad.append(f"{task_id}: {status}")
    if runs[task_id] == 0: bad.append(f"{task_id}: never in the ledger")
    if task_id in earlier and runs[task_id] != 1:
        bad.append(f"{task_id}: done in an earlier run, in the ledger {runs[task_id]} times")
    if runs[task_id] > 1 + interrupted[task_id]:
        bad.append(f"{task_id}: in the ledger {runs[task_id]} times, {interrupted[task_id]} interrupted attempts")
extra = set(runs) - set(ids)
if extra: bad.append(f"unknown ids in the ledger: {sorted(extra)}")
twice = sum(1 for c in runs.values() if c > 1)
print(f"ledger: {len(runs)} ids, {sum(runs.values())} lines, {twice} ran twice (interrupted after appending), "
      f"{len(earlier)} done before the last run")
if bad:
    print("\n".join(bad[:20]), file=sys.stderr)
    sys.exit(1)
EOF
}

write_ledger_job() {  # N SLEEP
  cat >jobs/ledger.toml <<EOF
[job]
name = "slurm-ledger"
output = "results/ledger.h5"

[task]
# Appends its id to ledger.txt when done: a subtask run twice shows up twice.
command = ["sh", "-c", "sleep \$1 && echo \"\$0\" >> ledger.txt", "{task_id}", "$2"]
timeout = "1m"

[sweep]
i = { range = [0, $1] }
EOF
}

case $case_name in
  quickstart)
    # As a user types it: the template's own #SBATCH lines (4 GPUs, 5 ranks), no options.
    cp "$src/jobs/quickstart.toml" jobs/
    submit slurm/fastgpu.sbatch jobs/quickstart.toml
    wait_for 120 COMPLETED FAILED TIMEOUT CANCELLED
    [ "$(field JobState)" = COMPLETED ] || fail "job state $(field JobState), exit $(field ExitCode)"
    [ "$(field ExitCode)" = 0:0 ] || fail "exit code $(field ExitCode)"
    expect_log "fastgpu exited 0"
    read -r status done_count total _ _ <<<"$(summary results/quickstart.h5)"
    [ "$status" = done ] && [ "$done_count" = 12 ] && [ "$total" = 12 ] ||
      fail "results: status $status, $done_count of $total done"
    # Four workers, each bound to one of the GPUs Slurm allocated (CUDA_VISIBLE_DEVICES from gres).
    devices=$("$fastgpu" inspect --json results/quickstart.h5 |
      "$python" -c 'import json,sys; print(" ".join(sorted(w["device"] for w in json.load(sys.stdin)["workers"])))')
    [ "$devices" = "cuda:0 cuda:1 cuda:2 cuda:3" ] || fail "worker devices: $devices"
    say "ok: 12/12 done, workers on $devices"
    ;;

  quickstart-cpu)
    # No GPUs asked for (a CPU-only cluster or partition): the workers fall back to CPU slots.
    cp "$src/jobs/quickstart.toml" jobs/
    submit --gpus-per-node=0 --cpus-per-task=1 slurm/fastgpu.sbatch jobs/quickstart.toml
    wait_for 120 COMPLETED FAILED TIMEOUT CANCELLED
    [ "$(field JobState)" = COMPLETED ] && [ "$(field ExitCode)" = 0:0 ] ||
      fail "job state $(field JobState), exit $(field ExitCode)"
    read -r status done_count total _ _ <<<"$(summary results/quickstart.h5)"
    [ "$status" = done ] && [ "$done_count" = 12 ] || fail "results: status $status, $done_count of $total done"
    devices=$("$fastgpu" inspect --json results/quickstart.h5 |
      "$python" -c 'import json,sys; print(" ".join(sorted(w["device"] for w in json.load(sys.stdin)["workers"])))')
    [ "$devices" = "cpu cpu cpu cpu" ] || fail "worker devices: $devices"
    say "ok: 12/12 done on 4 CPU workers"
    ;;

  stop-requeue-resume | stop-requeue-resume-mpirun)
    if [ "$case_name" = stop-requeue-resume-mpirun ]; then
      # The template's other launcher: Open MPI's mpirun inside the allocation.
      source "$src/scripts/mpi-env.sh"   # root, more ranks than cores
      export FASTGPU_LAUNCHER=mpirun
    fi
    # scancel --signal=USR1 --batch is what --signal=B:USR1@N does at the time limit's warning.
    write_ledger_job 20 1
    submit --cpus-per-task=1 slurm/fastgpu.sbatch jobs/ledger.toml --grace 5
    wait_for 60 RUNNING
    wait_lines ledger.txt 4 60
    scancel --signal=USR1 --batch "$job_id"
    say "sent SIGUSR1 to the batch shell of job $job_id"
    wait_requeued 1
    expect_log "SIGUSR1"
    expect_log "fastgpu exited 3"
    expect_log "requeueing job $job_id"
    check_stopped results/ledger.h5 20
    [ "$interrupted" -ge 1 ] || fail "no attempt was interrupted by the stop"
    done_ids results/ledger.h5 >done-run1.txt
    wait_for 120 COMPLETED FAILED TIMEOUT CANCELLED
    [ "$(field JobState)" = COMPLETED ] && [ "$(field ExitCode)" = 0:0 ] ||
      fail "job state $(field JobState), exit $(field ExitCode)"
    expect_log "run 2 on"
    expect_log "(resumed)"
    expect_log "fastgpu exited 0"
    expect_log "ranks (${FASTGPU_LAUNCHER:-srun})"
    check_ledger results/ledger.h5 20 done-run1.txt
    say "ok (${FASTGPU_LAUNCHER:-srun}): stopped at $done1/20, requeued, resumed, 20/20 done"
    ;;

  requeue-cap)
    # FASTGPU_MAX_REQUEUES=0: exit 3 ends the job (state FAILED, exit 3), it is not requeued, and
    # the command the log suggests (a new job with --resume) finishes the work.
    write_ledger_job 16 1
    FASTGPU_MAX_REQUEUES=0 submit --cpus-per-task=1 slurm/fastgpu.sbatch jobs/ledger.toml --grace 5
    wait_for 60 RUNNING
    wait_lines ledger.txt 4 60
    scancel --signal=USR1 --batch "$job_id"
    wait_for 60 FAILED COMPLETED
    [ "$(field ExitCode)" = 3:0 ] || fail "exit code $(field ExitCode), expected 3:0"
    [ "$(field Restarts)" = 0 ] || fail "requeued although the cap is 0"
    expect_log "not requeued"
    check_stopped results/ledger.h5 16
    done_ids results/ledger.h5 >done-run1.txt
    first=$job_id
    submit --cpus-per-task=1 slurm/fastgpu.sbatch jobs/ledger.toml --grace 5 --resume
    wait_for 120 COMPLETED FAILED TIMEOUT CANCELLED
    [ "$(field JobState)" = COMPLETED ] || fail "resume job: state $(field JobState), exit $(field ExitCode)"
    expect_log "fastgpu exited 0"
    check_ledger results/ledger.h5 16 done-run1.txt
    say "ok: job $first stopped (exit 3, not requeued), job $job_id resumed it to 16/16"
    ;;

  time-limit)
    # A job longer than its time limit: Slurm's warning stops it, the template requeues it, and
    # runs go on (requeued again as needed, up to the cap) until every subtask is done exactly
    # once. slurmctld looks at time limits every 30 s and sends the warning once the time left is
    # under the warning time + 30 s: with --time=1 and @20, 10-40 s into each run, well before
    # the hard limit; 100 subtasks of 2 s on 4 workers take 50 s, more than one run can do.
    n=100
    write_ledger_job $n 2
    submit --cpus-per-task=1 --time=1 --signal=B:USR1@20 slurm/fastgpu.sbatch jobs/ledger.toml --grace 5
    restarts=0
    declare -a earlier=()
    deadline=$((SECONDS + 400))
    while :; do
      [ $SECONDS -lt $deadline ] || fail "not finished after 400 s"
      state=$(field JobState)
      case $state in
        COMPLETED) break ;;
        FAILED | TIMEOUT | CANCELLED | NODE_FAIL | OUT_OF_MEMORY) fail "job state $state, exit $(field ExitCode)" ;;
      esac
      if [ "$(field Restarts)" -gt $restarts ] && [ "$state" = PENDING ]; then
        restarts=$(field Restarts)
        check_stopped results/ledger.h5 $n
        done_ids results/ledger.h5 >"done-run$restarts.txt"
        earlier+=("done-run$restarts.txt")
        say "run $restarts stopped with $(wc -l <"done-run$restarts.txt")/$n done; requeued"
      fi
      sleep 0.5
    done
    [ $restarts -ge 1 ] || fail "the job finished without being stopped by its time limit"
    [ "$(field ExitCode)" = 0:0 ] || fail "exit code $(field ExitCode)"
    expect_log "SIGUSR1"
    expect_log "fastgpu exited 3"
    grep -q "CANCELLED AT .* DUE TO TIME LIMIT" "fastgpu-$job_id.out" && fail "a run reached the hard time limit"
    check_ledger results/ledger.h5 $n ${earlier[@]+"${earlier[@]}"}
    say "ok: $n/$n done across $((restarts + 1)) runs of job $job_id"
    ;;

  deadline)
    # FastGPU finds the allocation's end itself (squeue %e: Slurm 22.05 sets no
    # SLURM_JOB_END_TIME) and stops before it, with no warning signal: --signal=B:URG@1 replaces
    # the template's USR1 warning with SIGURG, which the script ignores. 120 subtasks of 2 s on
    # 4 workers (60 s) do not fit in --time=1 minus the grace period.
    "$fastgpu" run --help 2>&1 | grep -q -- --deadline || skip "fastgpu run has no --deadline yet"
    n=120
    write_ledger_job $n 2
    submit --cpus-per-task=1 --time=1 --signal=B:URG@1 slurm/fastgpu.sbatch jobs/ledger.toml --grace 5
    wait_requeued 1
    expect_log "deadline"
    expect_log "fastgpu exited 3"
    check_stopped results/ledger.h5 $n
    done_ids results/ledger.h5 >done-run1.txt
    wait_for 200 COMPLETED FAILED TIMEOUT CANCELLED
    [ "$(field JobState)" = COMPLETED ] && [ "$(field ExitCode)" = 0:0 ] ||
      fail "job state $(field JobState), exit $(field ExitCode)"
    grep -q "CANCELLED AT .* DUE TO TIME LIMIT" "fastgpu-$job_id.out" && fail "a run reached the hard time limit"
    grep -q "SIGUSR1" "fastgpu-$job_id.out" && fail "a warning signal reached the script"
    expect_log "(resumed)"
    check_ledger results/ledger.h5 $n done-run1.txt
    say "ok: stopped by its own deadline at $done1/$n, requeued, resumed, $n/$n done"
    ;;

  *) echo "unknown case $case_name" >&2; exit 2 ;;
esac
