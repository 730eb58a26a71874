#!/usr/bin/python3
"""Writes a load-balancing benchmark job: `sleep` kernel subtasks with true run times `s` and
noisy cost estimates `c`, plus a sidecar JSON with the makespan lower bound.

    /usr/bin/python3 scripts/bench/make-workload.py philly    -o /tmp/philly.toml
    /usr/bin/python3 scripts/bench/make-workload.py lognormal -o /tmp/lognormal.toml -n 100

Workloads (N subtasks, default 200, drawn with a fixed seed, in the order drawn):
  philly     durations of 1-GPU jobs from the Microsoft Philly trace
             (../shared/traces/philly_jobs.csv, or $FASTGPU_TRACES/philly_jobs.csv; column
             `duration`, rows with num_gpus = 1),
             sampled without replacement
  lognormal  lognormal(0, 1.5) durations
Both are scaled so that total work / sum of worker speeds = --target seconds (default 20), for
the benchmark's workers: speeds 1, 1, 1 and 0.5 (one worker slowed 2x with FASTGPU_SLOWDOWN).

Each subtask gets params s = its true seconds (what `sleep` waits, on a speed-1 worker) and
c = s * lognormal(0, --noise) (default 0.3), the cost estimate the scheduler sees.

Lower bound on any schedule's makespan: max(total / sum(speeds), longest / max(speeds)). It is
printed and written, with the rest of the workload's description, to the sidecar JSON (default:
the job file's path with .json). Everything is computed from the values as written to the job
file (rounded to the microsecond), so the bound matches the job exactly.
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
# The traces live beside the repository (../shared/traces); FASTGPU_TRACES names another folder.
TRACES = os.environ.get("FASTGPU_TRACES") or os.path.join(HERE, "..", "..", "..", "shared", "traces")
DEFAULT_TRACE = os.path.normpath(os.path.join(TRACES, "philly_jobs.csv"))
SPEEDS = [1.0, 1.0, 1.0, 0.5]


def philly_durations(path):
    durations = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if int(row["num_gpus"]) == 1:
                d = float(row["duration"])
                if d > 0:
                    durations.append(d)
    return np.asarray(durations)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("workload", choices=["philly", "lognormal"])
    p.add_argument("-o", "--output", required=True, help="job file to write (.toml)")
    p.add_argument("-n", type=int, default=200, help="subtasks (default 200)")
    p.add_argument("--seed", type=int, default=None,
                   help="random seed (default: 1 for philly, 2 for lognormal)")
    p.add_argument("--target", type=float, default=20.0,
                   help="total work / sum of speeds, seconds (default 20)")
    p.add_argument("--sigma", type=float, default=1.5, help="lognormal workload: sigma (default 1.5)")
    p.add_argument("--noise", type=float, default=0.3,
                   help="sigma of the lognormal error factor of the cost estimates (default 0.3)")
    p.add_argument("--trace", default=DEFAULT_TRACE, help="Philly trace CSV (default %(default)s)")
    p.add_argument("--json", default=None, help="sidecar JSON (default: OUTPUT with .json)")
    args = p.parse_args()
    if args.n < 1:
        p.error("-n must be at least 1")
    seed = args.seed if args.seed is not None else {"philly": 1, "lognormal": 2}[args.workload]
    rng = np.random.default_rng(seed)

    if args.workload == "philly":
        if not os.path.isfile(args.trace):
            p.error(f"no Philly trace at {args.trace}: set FASTGPU_TRACES to the folder that holds "
                    "philly_jobs.csv, or give --trace FILE")
        pool = philly_durations(args.trace)
        if args.n > len(pool):
            p.error(f"-n {args.n}: the trace has only {len(pool)} 1-GPU jobs")
        raw = rng.choice(pool, size=args.n, replace=False)
    else:
        raw = rng.lognormal(0.0, args.sigma, size=args.n)
    noise = rng.lognormal(0.0, args.noise, size=args.n)

    speed_sum = sum(SPEEDS)
    scale = args.target * speed_sum / raw.sum()
    seconds = [round(float(x) * scale, 6) for x in raw]
    seconds = [max(s, 1e-6) for s in seconds]
    costs = [float(f"{s * e:.6g}") for s, e in zip(seconds, noise)]
    costs = [max(c, 1e-6) for c in costs]

    total = sum(seconds)
    longest = max(seconds)
    bound_work = total / speed_sum
    bound_longest = longest / max(SPEEDS)
    lower_bound = max(bound_work, bound_longest)
    log_err = np.log(np.asarray(costs) / np.asarray(seconds))
    rank_corr = float(np.corrcoef(np.argsort(np.argsort(costs)), np.argsort(np.argsort(seconds)))[0, 1])

    width = max(4, len(str(args.n - 1)))
    name = f"bal-{args.workload}"
    lines = [
        f"# Load-balancing benchmark workload, written by scripts/bench/make-workload.py",
        f"# {args.workload}: n={args.n} seed={seed} target={args.target} s noise_sigma={args.noise}"
        + (f" sigma={args.sigma}" if args.workload == "lognormal" else ""),
        f"# s = true seconds (on a speed-1 worker), c = s * lognormal(0, {args.noise}): the estimate",
        f"# lower bound (speeds {', '.join(f'{s:g}' for s in SPEEDS)}): {lower_bound:.6f} s",
        "",
        "[job]",
        f'name = "{name}"',
        "",
        "[task]",
        'kernel = "sleep"',
        'cost = "{c}"',
        "",
        "[task.args]",
        'seconds = "{s}"',
        "",
    ]
    for i, (s, c) in enumerate(zip(seconds, costs)):
        lines += ["[[tasks]]", f'name = "t{i:0{width}d}"', f"params = {{ s = {s!r}, c = {c!r} }}", ""]
    with open(args.output, "w") as f:
        f.write("\n".join(lines))

    meta = {
        "workload": args.workload,
        "job": os.path.abspath(args.output),
        "n": args.n,
        "seed": seed,
        "target_s": args.target,
        "sigma": args.sigma if args.workload == "lognormal" else None,
        "noise_sigma": args.noise,
        "trace": os.path.abspath(args.trace) if args.workload == "philly" else None,
        "speeds": SPEEDS,
        "total_work_s": total,
        "longest_s": longest,
        "shortest_s": min(seconds),
        "median_s": float(np.median(seconds)),
        "bound_work_s": bound_work,
        "bound_longest_s": bound_longest,
        "lower_bound_s": lower_bound,
        "estimate_log_error_sd": float(np.std(log_err)),
        "estimate_rank_correlation": rank_corr,
    }
    sidecar = args.json or (os.path.splitext(args.output)[0] + ".json")
    with open(sidecar, "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(f"{args.workload}: {args.n} subtasks, total {total:.3f} s, longest {longest:.3f} s, "
          f"median {meta['median_s']:.4f} s; lower bound {lower_bound:.3f} s "
          f"(work {bound_work:.3f}, longest {bound_longest:.3f}) -> {args.output}, {sidecar}")
    print(f"{lower_bound:.6f}")


if __name__ == "__main__":
    sys.exit(main())
