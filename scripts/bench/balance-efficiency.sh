#!/usr/bin/env bash
# Load-balancing efficiency of the scheduling policies: efficiency = lower bound / makespan, where
# the lower bound is max(total work / sum of worker speeds, longest subtask / fastest speed), for
# each policy (cost, greedy, static) on two workloads made by scripts/bench/make-workload.py:
#
#   philly     durations of 1-GPU jobs sampled from ../shared/traces/philly_jobs.csv
#   lognormal  lognormal durations, sigma = 1.5
#
# both scaled to total work / 3.5 = 20 s, run as `sleep` kernel subtasks on 4 workers of which
# one (rank 4) is slowed 2x with FASTGPU_SLOWDOWN="4=2" (speeds 1, 1, 1, 0.5: sum 3.5), with
# cost estimates off by a lognormal(0, 0.3) factor. Each run is
#
#   FASTGPU_SLOWDOWN="4=2" mpirun -np 5 fastgpu run JOB -o OUT.h5 --force --quiet --policy P
#
# (rank 0 runs under /usr/bin/time, which gives the scheduler rank's CPU time: user + system)
# and the makespan is the last attempt's end minus the first attempt's start (/attempts). The
# policies are interleaved in each repeat (the order rotates from one repeat to the next), so noise
# from a shared machine falls on all of them alike. Prints a markdown table of the median
# efficiency per workload x policy with the ratios cost/static and cost/greedy, then event counts
# (retract, migrate, speculate, ...) and per-worker end times.
#
#   usage: scripts/bench/balance-efficiency.sh [--quick] [-r REPEATS] [-n SUBTASKS] [--keep DIR]
#                                               [--workloads "philly lognormal"] [--policies "cost greedy static"]
#     --quick   1 repeat, 100 subtasks (default: 3 repeats, 200 subtasks)
#     --keep    keep the job files, results files and runs.jsonl in DIR (default: a temporary dir)
#     --slow-rank K   slow worker rank K instead of 4 (1-4). Workers say hello in a random order
#               (rank 4 usually last) and no worker's speed is known at the start, so check that
#               the result does not depend on which rank is slow.
#   BUILD_DIR (default build) is built first with scripts/build.sh when the binary is missing;
#   FASTGPU_BIN (default $BUILD_DIR/fastgpu) picks another binary. Python: /usr/bin/python3
#   (needs numpy and h5py; Debian python3-numpy python3-h5py).
#
# Each run sleeps about 20 s: the full benchmark takes about 2 x 3 x 3 x 25 s = 8 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/mpi-env.sh

repeats=3
n=200
keep=""
workloads="philly lognormal"
policies="cost greedy static"
slow=4
args_given="$*"
while (($#)); do
  case $1 in
    --quick) repeats=1; n=100 ;;
    -r) repeats=$2; shift ;;
    -n) n=$2; shift ;;
    --keep) keep=$2; shift ;;
    --workloads) workloads=$2; shift ;;
    --policies) policies=$2; shift ;;
    --slow-rank) slow=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if ! [[ $n =~ ^[1-9][0-9]*$ && $repeats =~ ^[1-9][0-9]*$ ]]; then
  echo "-n and -r take positive integers" >&2
  exit 2
fi
[[ $slow =~ ^[1-4]$ ]] || { echo "--slow-rank takes 1, 2, 3 or 4" >&2; exit 2; }

py=/usr/bin/python3
build_dir=${BUILD_DIR:-build}
fastgpu=${FASTGPU_BIN:-$build_dir/fastgpu}
[[ -x $fastgpu ]] || BUILD_DIR=$build_dir bash scripts/build.sh >&2
command -v mpirun >/dev/null || { echo "mpirun is missing (apt-get install openmpi-bin)" >&2; exit 2; }
"$py" -c 'import h5py, numpy' || { echo "$py needs h5py and numpy (apt-get install python3-h5py)" >&2; exit 2; }

if [[ -n $keep ]]; then
  mkdir -p "$keep"
  dir=$(cd "$keep" && pwd)
else
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi
runs=$dir/runs.jsonl
: >"$runs"

echo "# balance-efficiency: ${n} subtasks per workload, $repeats repeats, 4 workers (rank $slow slowed 2x), estimates off by lognormal(0, 0.3)"
echo "# command: ${FASTGPU_BIN:+FASTGPU_BIN=$FASTGPU_BIN }${BUILD_DIR:+BUILD_DIR=$BUILD_DIR }scripts/bench/balance-efficiency.sh $args_given"
echo "# date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), kernel $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME")"
echo "# tools:   $(mpirun --version | head -1), $("$fastgpu" --version 2>/dev/null || echo 'fastgpu ?')"
for w in $workloads; do
  echo "# workload $("$py" scripts/bench/make-workload.py "$w" -n "$n" -o "$dir/$w.toml" | sed -n 1p)"
done
echo

read -r -a pols <<<"$policies"
count=${#pols[@]}
for ((r = 0; r < repeats; r++)); do
  for w in $workloads; do
    for ((k = 0; k < count; k++)); do
      p=${pols[$(((k + r) % count))]}
      out=$dir/$w-$p-$r.h5
      # Rank 0 (the scheduler) under /usr/bin/time: the first app context of an MPMD launch is rank 0.
      run=("$fastgpu" run "$dir/$w.toml" -o "$out" --force --quiet --policy "$p")
      FASTGPU_SLOWDOWN="$slow=2" mpirun -np 1 /usr/bin/time -f "%U %S" -o "$out.time" "${run[@]}" : -np 4 "${run[@]}"
      line=$("$py" scripts/bench/balance-analyze.py run "$out" "$dir/$w.json" --workload "$w" --policy "$p" --repeat "$r" \
        --slow-rank "$slow" --rank0-time "$out.time")
      echo "$line" >>"$runs"
      "$py" - "$line" "$((r + 1))" "$repeats" >&2 <<'EOF'
import json, sys
r = json.loads(sys.argv[1]); ev = r["events"]
ends = " ".join("%.2f" % w["last_end_s"] for w in r["per_worker"].values())
print(f"repeat {sys.argv[2]}/{sys.argv[3]}  {r['workload']:9s} {r['policy']:6s} makespan {r['makespan_s']:7.3f} s"
      f"  efficiency {r['efficiency']:.3f}  migrate {ev.get('migrate', 0)} speculate {ev.get('speculate', 0)}"
      f"  last ends {ends}  rank-0 CPU {r['rank0_cpu_s']:.2f} s")
EOF
    done
  done
done

"$py" scripts/bench/balance-analyze.py table "$runs"
echo
echo "Lower bound: speeds 1, 1, 1, 0.5 (rank $slow slowed 2x). Makespan: last attempt end - first attempt start. Target for cost: >= 0.95."
[[ -n $keep ]] && echo "Runs kept in $dir (runs.jsonl; details of one run: $py scripts/bench/balance-analyze.py detail $dir/WORKLOAD-POLICY-0.h5 $dir/WORKLOAD.json)"
exit 0
