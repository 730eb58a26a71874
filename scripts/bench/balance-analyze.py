#!/usr/bin/python3
"""Reads load-balancing benchmark results (used by scripts/bench/balance-efficiency.sh).

    balance-analyze.py run OUT.h5 WORKLOAD.json --workload W --policy P --repeat R
        one JSON line about one run: makespan (last attempt end - first attempt start),
        efficiency = lower bound / makespan, events counted by kind, per-worker busy time and
        last end, how good the predictions were (predicted_s vs. the attempt's run time)
    balance-analyze.py table RUNS.jsonl
        the median efficiency per workload x policy, ratios cost/static and cost/greedy, and
        the event counts and per-worker picture behind them (markdown)
    balance-analyze.py detail OUT.h5 [WORKLOAD.json]
        a human-readable account of one run: per worker, what it ran and when it ended; the
        rebalance/speculation events; the subtasks that ended last
"""
import collections
import json
import math
import statistics
import sys

import h5py
import numpy as np

DONE, SUPERSEDED, CANCELLED = 1, 7, 6


def load(path):
    with h5py.File(path, "r") as f:
        attempts = f["attempts"][...]
        events = f["events"][...] if "events" in f else np.zeros(0)
        tasks = f["tasks"][...]
        workers = f["workers"][...]
    return attempts, events, tasks, workers


def open_tasks(path):
    with h5py.File(path, "r") as f:
        return f["tasks"][...]


def kind_counts(events):
    return collections.Counter(e["kind"].decode() for e in events)


def summarize(path, meta):
    attempts, events, tasks, workers = load(path)
    start = float(np.nanmin(attempts["start"]))
    end = float(np.nanmax(attempts["end"]))
    makespan = end - start
    lb = meta["lower_bound_s"]
    per_worker = {}
    for rank in sorted(int(r) for r in workers["rank"]):
        mine = attempts[attempts["worker"] == rank]
        busy = float(np.nansum(mine["end"] - mine["start"]))
        last = float(np.nanmax(mine["end"])) - start if len(mine) else 0.0
        per_worker[rank] = {"attempts": int(len(mine)), "busy_s": round(busy, 3), "last_end_s": round(last, 3)}
    done = attempts[attempts["status"] == DONE]
    run = done["end"] - done["start"]
    pred = done["predicted_s"]
    ok = np.isfinite(pred) & (run > 0) & (pred > 0)
    log_err = np.log(pred[ok] / run[ok]) if ok.any() else np.zeros(0)
    counts = kind_counts(events)
    return {
        "makespan_s": round(makespan, 4),
        "lower_bound_s": round(lb, 4),
        "efficiency": round(lb / makespan, 4),
        "attempts": int(len(attempts)),
        "superseded": int((attempts["status"] == SUPERSEDED).sum()),
        "migrated_attempts": int(attempts["migrated"].astype(bool).sum()),
        "events": dict(counts),
        "per_worker": per_worker,
        "pred_log_err_median": round(float(np.median(log_err)), 4) if len(log_err) else None,
        "pred_log_err_mad": round(float(np.median(np.abs(log_err - np.median(log_err)))), 4) if len(log_err) else None,
        "idle_s": round(sum(makespan - w["busy_s"] for w in per_worker.values()), 3),
    }


def cmd_run(argv):
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("h5")
    p.add_argument("meta")
    p.add_argument("--workload", required=True)
    p.add_argument("--policy", required=True)
    p.add_argument("--repeat", type=int, default=0)
    p.add_argument("--slow-rank", type=int, default=4)
    p.add_argument("--rank0-time", help="/usr/bin/time -f '%%U %%S' output of rank 0")
    a = p.parse_args(argv)
    meta = json.load(open(a.meta))
    row = {"workload": a.workload, "policy": a.policy, "repeat": a.repeat, "slow_rank": a.slow_rank}
    row.update(summarize(a.h5, meta))
    row["rank0_cpu_s"] = None
    if a.rank0_time:
        fields = open(a.rank0_time).read().split()
        row["rank0_cpu_s"] = round(float(fields[-2]) + float(fields[-1]), 3)
        row["rank0_cpu_ms_per_subtask"] = round(1000 * row["rank0_cpu_s"] / len(open_tasks(a.h5)), 3)
    print(json.dumps(row))


def cmd_table(argv):
    rows = [json.loads(line) for line in open(argv[0]) if line.strip()]
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    policies = [p for p in ("cost", "greedy", "static") if any(r["policy"] == p for r in rows)]
    by = collections.defaultdict(list)
    for r in rows:
        by[(r["workload"], r["policy"])].append(r)

    def cpu(rs):
        vals = [r["rank0_cpu_s"] for r in rs if r.get("rank0_cpu_s") is not None]
        per = [r["rank0_cpu_ms_per_subtask"] for r in rs if r.get("rank0_cpu_ms_per_subtask") is not None]
        return f"{statistics.median(vals):.2f} ({statistics.median(per):.2f})" if vals else "–"

    def med(key, w, p):
        vals = [r[key] for r in by[(w, p)]]
        return statistics.median(vals) if vals else float("nan")

    print("Efficiency = lower bound / makespan (median of the repeats; min-max in brackets):\n")
    print("| workload | lower bound | " + " | ".join(policies) + " | cost / static | cost / greedy |")
    print("|---|---:|" + "---:|" * len(policies) + "---:|---:|")
    for w in workloads:
        cells = []
        for p in policies:
            vals = [r["efficiency"] for r in by[(w, p)]]
            if not vals:
                cells.append("–")
                continue
            cells.append(f"{statistics.median(vals):.3f} ({min(vals):.3f}-{max(vals):.3f})" if len(vals) > 1
                         else f"{vals[0]:.3f}")
        lb = by[(w, policies[0])][0]["lower_bound_s"]
        ratio = lambda q: f"{med('efficiency', w, 'cost') / med('efficiency', w, q):.2f} x" \
            if by[(w, "cost")] and by[(w, q)] else "–"
        print(f"| {w} | {lb:.2f} s | " + " | ".join(cells) + f" | {ratio('static')} | {ratio('greedy')} |")

    print("\nMakespan, idle time and scheduler events (medians per run):\n")
    print("| workload | policy | makespan s | idle s (all workers) | retract | migrate | retract_failed | speculate | speculation_won | superseded | pred. log-error median / MAD | rank 0 CPU s (ms / subtask) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w in workloads:
        for p in policies:
            rs = by[(w, p)]
            if not rs:
                continue
            ev = lambda k: statistics.median(r["events"].get(k, 0) for r in rs)
            pe = [r["pred_log_err_median"] for r in rs if r["pred_log_err_median"] is not None]
            pm = [r["pred_log_err_mad"] for r in rs if r["pred_log_err_mad"] is not None]
            perr = f"{statistics.median(pe):+.3f} / {statistics.median(pm):.3f}" if pe else "–"
            print(f"| {w} | {p} | {med('makespan_s', w, p):.2f} | {med('idle_s', w, p):.2f} | {ev('retract'):g} | "
                  f"{ev('migrate'):g} | {ev('retract_failed'):g} | {ev('speculate'):g} | {ev('speculation_won'):g} | "
                  f"{statistics.median(r['superseded'] for r in rs):g} | {perr} | {cpu(rs)} |")

    print("\nLast end per worker, seconds after the first start (the run with the median efficiency):\n")
    ranks = sorted({int(k) for r in rows for k in r["per_worker"]})
    slow = rows[0].get("slow_rank", 4)
    print("| workload | policy | makespan | " + " | ".join(f"rank {k}" + (" (2x slow)" if k == slow else "") for k in ranks) + " |")
    print("|---|---|---:|" + "---:|" * len(ranks))
    for w in workloads:
        for p in policies:
            rs = sorted(by[(w, p)], key=lambda r: r["efficiency"])
            if not rs:
                continue
            r = rs[len(rs) // 2]
            cells = [f"{r['per_worker'].get(str(k), {}).get('last_end_s', float('nan')):.2f}" for k in ranks]
            print(f"| {w} | {p} | {r['makespan_s']:.2f} | " + " | ".join(cells) + " |")


def cmd_detail(argv):
    path = argv[0]
    attempts, events, tasks, workers = load(path)
    t0 = float(np.nanmin(attempts["start"]))
    names = [t["name"].decode() or t["id"].decode() for t in tasks]
    params = [json.loads(t["params"].decode()) for t in tasks]
    print(f"{path}: makespan {float(np.nanmax(attempts['end'])) - t0:.3f} s, {len(attempts)} attempts")
    if len(argv) > 1:
        meta = json.load(open(argv[1]))
        print(f"lower bound {meta['lower_bound_s']:.3f} s")
    for rank in sorted(int(r) for r in workers["rank"]):
        mine = attempts[attempts["worker"] == rank]
        mine = mine[np.argsort(mine["start"])]
        busy = float(np.nansum(mine["end"] - mine["start"]))
        print(f"\nrank {rank}: {len(mine)} attempts, busy {busy:.2f} s, last end {float(np.nanmax(mine['end'])) - t0:.3f} s")
        longest = mine[np.argsort(mine["end"] - mine["start"])[::-1][:6]]
        for a in sorted(longest, key=lambda a: a["start"]):
            k = int(a["task"])
            print(f"   {names[k]} s={params[k].get('s')} c={params[k].get('c')} "
                  f"start {a['start'] - t0:7.3f} end {a['end'] - t0:7.3f} ran {a['end'] - a['start']:6.3f} "
                  f"pred {a['predicted_s']:6.3f} status {int(a['status'])} migrated {bool(a['migrated'])}")
        tail = mine[-3:]
        print("   last: " + ", ".join(f"{names[int(a['task'])]} {a['start'] - t0:.2f}-{a['end'] - t0:.2f}" for a in tail))
    print("\nevents (not assign/worker_joined):")
    for e in events:
        kind = e["kind"].decode()
        if kind in ("assign", "worker_joined"):
            continue
        task = int(e["task"])
        print(f"  {e['time'] - t0:7.3f} {kind:16s} {names[task] if task >= 0 else '-':6s} "
              f"{int(e['from']):3d} -> {int(e['to']):3d}  {e['detail'].decode()}")


def main():
    cmd, argv = sys.argv[1], sys.argv[2:]
    {"run": cmd_run, "table": cmd_table, "detail": cmd_detail}[cmd](argv)


if __name__ == "__main__":
    main()
