#!/usr/bin/python3
"""How the scheduler's cost grows with workers and subtasks (issue 7): a table and a plot.

    sim-scale.py [--build DIR] [--workers 64,512,4096] [--subtasks 10000,100000,1000000]
                 [--out DIR]

Runs build/tests/fastgpu_bench_sim once per configuration, one process each (so the peak RSS is
that configuration's), and writes to --out (default: a new folder under /tmp):
  - sim-scale.md: the benchmark's rows, as a markdown table, with the date and machine;
  - sim-scale.svg: two panels, wall time per subtask against workers (one line per job size) and
    against subtasks (one line per pool size), log-log. A flat line is a cost per subtask that
    does not grow; a line rising as fast as n would be a quadratic total.
Needs python3-matplotlib (scripts/install-deps.sh installs it).
"""
import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile


def run_grid(bench, workers, subtasks):
    header = subprocess.run([bench, "--header"], check=True, capture_output=True, text=True).stdout
    rows = []
    for n in subtasks:
        for w in workers:
            print(f"sim-scale: {w} workers x {n} subtasks", file=sys.stderr, flush=True)
            line = subprocess.run([bench, str(w), str(n)], check=True, capture_output=True, text=True).stdout
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            rows.append((line.strip(), cells))
    return header.strip(), rows


def plot(rows, workers, subtasks, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Columns of fastgpu_bench_sim: workers, subtasks, policy, wall s, ...
    us_per_subtask = {(int(c[0]), int(c[1])): 1e6 * float(c[3]) / int(c[1]) for _, c in rows}
    fig, (by_workers, by_subtasks) = plt.subplots(1, 2, figsize=(10, 4))
    for n in subtasks:
        by_workers.plot(workers, [us_per_subtask[(w, n)] for w in workers], marker="o", label=f"{n:,} subtasks")
    for w in workers:
        by_subtasks.plot(subtasks, [us_per_subtask[(w, n)] for n in subtasks], marker="o", label=f"{w:,} workers")
    for ax, xlabel in ((by_workers, "workers"), (by_subtasks, "subtasks")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("wall time per subtask (µs)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.suptitle("fastgpu_bench_sim: simulated scheduling cost per subtask")
    fig.tight_layout()
    fig.savefig(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.environ.get("BUILD_DIR", "build"))
    parser.add_argument("--workers", default="64,512,4096")
    parser.add_argument("--subtasks", default="10000,100000,1000000")
    parser.add_argument("--out")
    args = parser.parse_args()
    bench = os.path.join(args.build, "tests", "fastgpu_bench_sim")
    if not os.access(bench, os.X_OK):
        sys.exit(f"sim-scale: {bench} not found: cmake --build {args.build} --target fastgpu_bench_sim")
    workers = [int(w) for w in args.workers.split(",")]
    subtasks = [int(n) for n in args.subtasks.split(",")]
    out = args.out or tempfile.mkdtemp(prefix="sim-scale.")
    os.makedirs(out, exist_ok=True)

    started = datetime.datetime.now(datetime.timezone.utc)
    header, rows = run_grid(bench, workers, subtasks)
    took = (datetime.datetime.now(datetime.timezone.utc) - started).total_seconds()
    with open(os.path.join(out, "sim-scale.md"), "w") as f:
        f.write(f"- date: {started:%Y-%m-%d %H:%M} UTC; took {took:.0f} s\n")
        f.write(f"- machine: {os.cpu_count()} CPUs, {platform.platform()}, load average at the end "
                f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
        f.write(f"- bench: {bench}\n\n")
        f.write(header + "\n")
        for line, _ in rows:
            f.write(line + "\n")
    plot(rows, workers, subtasks, os.path.join(out, "sim-scale.svg"))
    print(open(os.path.join(out, "sim-scale.md")).read())
    print(f"sim-scale: table and plot in {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
