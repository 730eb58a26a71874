#!/usr/bin/env python3
"""Read a FastGPU results file (HDF5) into NumPy; summarize it; plot worker utilization.

As a module (needs h5py and NumPy; Debian: python3-h5py python3-numpy)::

    import sys; sys.path.insert(0, "scripts")
    import fastgpu_results as fr

    r = fr.load("results/sweep.h5")
    r.job["status"]                      # /job attributes as a dict of str/float
    r.tasks["status"]                    # NumPy structured arrays; enums as str ("done", ...)
    r.tasks["id"][r.tasks["status"] == "failed"]
    r.params[3]["lr"]                    # parameters of subtask row 3, parsed from JSON
    r.attempts[r.attempts["status"] == "timed_out"]
    r.metrics                            # /outputs/metrics: attempt, task, name, value
    r.task_metrics()[3]                  # {"loss": 0.12, ...} of row 3's last successful attempt
    rows = r.table()                     # one dict per subtask, like `fastgpu inspect --tasks-csv`
    r.workers, r.events                  # /workers, /events
    r.model, r.telemetry                 # dicts of arrays / an array; None when the file has none

Every table is a NumPy structured array with the file's field names; variable-length strings
are decoded (UTF-8) to fixed-width str fields, enums (task_status, attempt_status) to their
names, the FALSE/TRUE enum to bool. Times are seconds since the job started (NaN when unset).

As a command (plotting also needs python3-matplotlib)::

    python3 scripts/fastgpu_results.py summary OUT.h5
    python3 scripts/fastgpu_results.py plot-utilization OUT.h5 utilization.png [--bins 200]

The layout of the file is described in docs/results-file.md; this module in docs/inspect.md.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import h5py
import numpy as np

__all__ = ["Results", "load", "decode_table", "busy_fraction"]


def _to_str(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        return _to_str(value[()])
    return str(value)


def _str_array(values) -> np.ndarray:
    """A 1-D array of str (fixed width, at least 1) from bytes/str/objects."""
    decoded = [_to_str(v) for v in values]
    width = max((len(s) for s in decoded), default=1) or 1
    return np.array(decoded, dtype=f"U{width}")


def _enum_names(mapping: dict, values: np.ndarray) -> np.ndarray:
    """Enum values to their names; a value without a name becomes 'unknown(N)'."""
    names = {int(v): k for k, v in mapping.items()}
    decoded = [names.get(int(v), f"unknown({int(v)})") for v in values]
    width = max((len(s) for s in decoded), default=1) or 1
    return np.array(decoded, dtype=f"U{width}")


def decode_table(dataset: h5py.Dataset) -> np.ndarray:
    """A dataset as a NumPy array with strings decoded and enums named.

    Compound datasets become structured arrays with the same field names; a string dataset
    becomes an array of str; anything else is returned as read.
    """
    data = dataset[...]
    if data.dtype.names is None:
        if h5py.check_string_dtype(dataset.dtype) is not None or data.dtype.kind in "SO":
            return _str_array(data.reshape(-1)).reshape(data.shape)
        return data
    columns = []
    for name in data.dtype.names:
        field_type = dataset.dtype[name]
        column = data[name]
        enum = h5py.check_enum_dtype(field_type)
        if enum is not None and set(enum) == {"FALSE", "TRUE"}:
            column = column.astype(bool)
        elif enum is not None:
            column = _enum_names(enum, column)
        elif h5py.check_string_dtype(field_type) is not None or column.dtype.kind in "SO":
            column = _str_array(column)
        columns.append((name, column))
    out = np.empty(len(data), dtype=[(name, column.dtype) for name, column in columns])
    for name, column in columns:
        out[name] = column
    return out


def _read_group(group: h5py.Group) -> dict:
    out = {}
    for key, item in group.items():
        out[key] = decode_table(item) if isinstance(item, h5py.Dataset) else _read_group(item)
    return out


def _empty(fields: list[tuple[str, str]]) -> np.ndarray:
    return np.empty(0, dtype=fields)


_TASKS = [("id", "U1"), ("name", "U1"), ("params", "U1"), ("cost", "f8"), ("gpus", "i4"), ("status", "U1"),
          ("attempts", "i4"), ("worker", "i4"), ("start", "f8"), ("end", "f8"), ("exit_code", "i4")]
_ATTEMPTS = [("task", "i8"), ("attempt", "i4"), ("worker", "i4"), ("host", "U1"), ("device", "U1"),
             ("start", "f8"), ("end", "f8"), ("status", "U1"), ("exit_code", "i4"), ("signal", "i4"),
             ("predicted_s", "f8"), ("migrated", "?"), ("error", "U1")]
_WORKERS = [("rank", "i4"), ("host", "U1"), ("local_rank", "i4"), ("device", "U1"), ("gpu_name", "U1"),
            ("gpu_uuid", "U1")]
_EVENTS = [("time", "f8"), ("kind", "U1"), ("task", "i8"), ("from", "i4"), ("to", "i4"), ("detail", "U1")]
_METRICS = [("attempt", "i8"), ("task", "i8"), ("name", "U1"), ("value", "f8")]


class Results:
    """Everything in one results file. Attributes:

    path, job (dict), tasks, attempts, workers, events, metrics (structured arrays),
    params (list of dicts, one per /tasks row), model (the /model tables as a dict of arrays, or
    None), telemetry (None, an array, or a dict of arrays when /telemetry is a group),
    stdout / stderr (arrays of str, only with load(outputs=True)).
    """

    def __init__(self, path: str, outputs: bool = False):
        self.path = path
        with h5py.File(path, "r") as f:
            if "job" not in f:
                raise ValueError(f"{path}: not a FastGPU results file (it has no /job group)")
            self.job = {key: (_to_str(value) if isinstance(value, (bytes, str, np.bytes_)) else
                              value.item() if isinstance(value, np.generic) else value)
                        for key, value in f["job"].attrs.items()}

            def table(name, fields):
                return decode_table(f[name]) if name in f else _empty(fields)

            self.tasks = table("tasks", _TASKS)
            self.attempts = table("attempts", _ATTEMPTS)
            self.workers = table("workers", _WORKERS)
            self.events = table("events", _EVENTS)
            self.metrics = table("outputs/metrics", _METRICS)
            self.model = _read_group(f["model"]) if "model" in f and isinstance(f["model"], h5py.Group) else None
            self.telemetry = None
            if "telemetry" in f:
                item = f["telemetry"]
                self.telemetry = decode_table(item) if isinstance(item, h5py.Dataset) else _read_group(item)
            self.stdout = self.stderr = None
            if outputs:
                self.stdout = table("outputs/stdout", [])
                self.stderr = table("outputs/stderr", [])
        self.params = []
        for text in self.tasks["params"]:
            try:
                value = json.loads(text) if text else {}
            except ValueError:
                value = {}
            self.params.append(value if isinstance(value, dict) else {})

    # -- derived views ---------------------------------------------------------------------

    def task_metrics(self) -> list[dict]:
        """For each /tasks row, the metrics of its last successful attempt (name -> last value)."""
        best: dict[int, int] = {}  # task row -> attempts row of its last successful attempt
        for row in np.flatnonzero(self.attempts["status"] == "done"):
            task = int(self.attempts["task"][row])
            if task not in best or self.attempts["attempt"][row] >= self.attempts["attempt"][best[task]]:
                best[task] = int(row)
        chosen = {row: task for task, row in best.items()}
        out: list[dict] = [{} for _ in range(len(self.tasks))]
        for m in self.metrics:
            task = chosen.get(int(m["attempt"]))
            if task is not None and 0 <= task < len(out):
                out[task][str(m["name"])] = float(m["value"])
        return out

    def table(self) -> list[dict]:
        """One dict per subtask: the columns of `fastgpu inspect --tasks-csv` (unset times NaN)."""
        fixed = ["id", "name", "status", "attempts", "worker", "start", "end", "duration", "exit_code"]
        metrics = self.task_metrics()
        taken = set(fixed)
        param_columns: dict[str, str] = {}
        metric_columns: dict[str, str] = {}
        for names, prefix, columns in (([n for p in self.params for n in p], "param.", param_columns),
                                       ([n for m in metrics for n in m], "metric.", metric_columns)):
            for name in names:
                if name in columns:
                    continue
                column = name
                while column in taken:
                    column = prefix + column
                taken.add(column)
                columns[name] = column
        rows = []
        for i, t in enumerate(self.tasks):
            row = {"id": str(t["id"]), "name": str(t["name"]), "status": str(t["status"]),
                   "attempts": int(t["attempts"]), "worker": int(t["worker"]), "start": float(t["start"]),
                   "end": float(t["end"]), "duration": float(t["end"] - t["start"]),
                   "exit_code": int(t["exit_code"])}
            for column in list(param_columns.values()) + list(metric_columns.values()):
                row[column] = None
            for name, value in self.params[i].items():
                row[param_columns[name]] = value
            for name, value in metrics[i].items():
                row[metric_columns[name]] = value
            rows.append(row)
        return rows

    def dataframe(self):
        """table() as a pandas DataFrame (needs pandas)."""
        import pandas as pd  # optional dependency
        return pd.DataFrame(self.table())

    def makespan(self) -> tuple[float, float]:
        """(first start, last end) over the attempts that finished; (0, 0) when none did."""
        a = self.attempts
        ok = np.isfinite(a["start"]) & np.isfinite(a["end"])
        if not ok.any():
            return 0.0, 0.0
        return float(a["start"][ok].min()), float(a["end"][ok].max())


def load(path: str, outputs: bool = False) -> Results:
    """Reads a results file. outputs=True also loads the stdout/stderr tails of every attempt."""
    return Results(path, outputs=outputs)


def busy_fraction(results: Results, bins: int = 200, t_end: float | None = None):
    """Per-worker busy fraction over time, from /attempts.

    Returns (edges, ranks, fraction): edges has bins+1 times from 0 to t_end (default: the last
    time in the file), ranks the worker ranks (one row each), fraction[w, b] the share of bin b
    that worker ranks[w] spent running attempts (overlapping attempts are capped at 1). An
    attempt without an end (the run was killed) counts until t_end.
    """
    a = results.attempts
    ranks = sorted(set(int(r) for r in results.workers["rank"]) | set(int(r) for r in a["worker"]))
    times = np.concatenate([a["start"], a["end"], results.events["time"]]) if len(a) else results.events["time"]
    finite = times[np.isfinite(times)]
    if t_end is None:
        t_end = float(finite.max()) if len(finite) else 1.0
    t_end = max(t_end, 1e-9)
    edges = np.linspace(0.0, t_end, bins + 1)
    width = edges[1] - edges[0]
    fraction = np.zeros((len(ranks), bins))
    row_of = {rank: i for i, rank in enumerate(ranks)}
    for start, end, worker in zip(a["start"], a["end"], a["worker"]):
        if not math.isfinite(start):
            continue
        end = t_end if not math.isfinite(end) else min(end, t_end)
        if end <= start:
            continue
        first = max(int(start // width), 0)
        last = min(int(math.ceil(end / width)), bins)
        lo = np.maximum(edges[first:last], start)
        hi = np.minimum(edges[first + 1:last + 1], end)
        fraction[row_of[int(worker)], first:last] += np.clip(hi - lo, 0, None) / width
    return edges, ranks, np.minimum(fraction, 1.0)


# -- command line ----------------------------------------------------------------------------


def _count(values) -> str:
    names, counts = np.unique(values, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return ", ".join(f"{counts[i]} {names[i]}" for i in order)


def summary(results: Results, out=sys.stdout) -> None:
    job = results.job
    finished = job.get("finished") or ""
    print(f"job '{job.get('name', '')}' ({results.path}): {job.get('status', '')}, started "
          f"{job.get('started', '')}" + (f", finished {finished}" if finished else ""), file=out)
    tasks, attempts = results.tasks, results.attempts
    print(f"subtasks: {len(tasks)}" + (f" ({_count(tasks['status'])})" if len(tasks) else "") +
          f"; attempts: {len(attempts)}" + (f" ({_count(attempts['status'])})" if len(attempts) else ""), file=out)
    first, last = results.makespan()
    makespan = last - first
    print(f"makespan: {makespan:.3f} s", file=out)
    if len(results.workers):
        print("workers:", file=out)
        ok = np.isfinite(attempts["start"]) & np.isfinite(attempts["end"])
        for w in results.workers:
            mine = ok & (attempts["worker"] == w["rank"])
            busy = float((attempts["end"][mine] - attempts["start"][mine]).sum())
            gpu = f" ({w['gpu_name']})" if w["gpu_name"] else ""
            share = f"{100 * busy / makespan:.0f}%" if makespan > 0 else "-"
            print(f"  rank {w['rank']}  {w['host']}  {w['device']}{gpu}  {int(mine.sum())} attempts, "
                  f"busy {busy:.3f} s ({share})", file=out)
    names = list(dict.fromkeys(n for p in results.params for n in p))
    if names:
        print("parameters: " + ", ".join(names), file=out)
    metrics = results.task_metrics()
    metric_names = list(dict.fromkeys(n for m in metrics for n in m))
    if metric_names:
        print("metrics (last successful attempt of each subtask):", file=out)
        for name in metric_names:
            values = np.array([m[name] for m in metrics if name in m], dtype=float)
            print(f"  {name}: n={len(values)} min={np.nanmin(values):.6g} mean={np.nanmean(values):.6g} "
                  f"max={np.nanmax(values):.6g}", file=out)
    failed = np.flatnonzero(tasks["status"] == "failed")
    if len(failed):
        print("failed subtasks:", file=out)
        for row in failed[:20]:
            mine = np.flatnonzero(attempts["task"] == row)
            error = str(attempts["error"][mine[-1]]) if len(mine) else ""
            print(f"  {tasks['id'][row]}: {error or 'exit code ' + str(tasks['exit_code'][row])}", file=out)
        if len(failed) > 20:
            print(f"  ... and {len(failed) - 20} more", file=out)
    if results.telemetry is not None:
        size = len(results.telemetry) if not isinstance(results.telemetry, dict) else len(results.telemetry)
        print(f"telemetry: {size} " + ("datasets" if isinstance(results.telemetry, dict) else "rows"), file=out)


# cpu_util last: a run without GPUs records CPU use, and leaves gpu_util NaN.
_UTIL_FIELDS = ("gpu_util", "gpu_utilization", "utilization", "util", "sm_util", "cpu_util")


def _telemetry_series(results: Results):
    """(field, {rank: (times, values)}) from a /telemetry table with time, worker and a
    utilization field, or None."""
    table = results.telemetry
    if table is None or isinstance(table, dict) or table.dtype.names is None:
        return None
    names = table.dtype.names
    field = next((f for f in _UTIL_FIELDS
                  if f in names and np.isfinite(table[f].astype(float)).any()), None)
    rank_field = "worker" if "worker" in names else "rank" if "rank" in names else None
    if field is None or rank_field is None or "time" not in names or not len(table):
        return None
    series = {}
    for rank in np.unique(table[rank_field]):
        rows = table[table[rank_field] == rank]
        order = np.argsort(rows["time"])
        series[int(rank)] = (rows["time"][order], rows[field][order].astype(float))
    return field, series


def plot_utilization(results: Results, png: str, bins: int = 200) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name = results.job.get("name", "")
    telemetry = _telemetry_series(results)
    if telemetry is not None:
        field, series = telemetry
        fig, ax = plt.subplots(figsize=(11, 5))
        for rank, (times, values) in sorted(series.items()):
            ax.plot(times, values, lw=1, label=f"rank {rank}" if len(series) <= 16 else None)
        ax.set_ylabel(field)
        ax.set_title(f"job '{name}': {field} per worker (/telemetry)")
        if len(series) <= 16:
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    else:
        edges, ranks, fraction = busy_fraction(results, bins)
        mids = (edges[:-1] + edges[1:]) / 2
        if len(ranks) <= 16:
            fig, ax = plt.subplots(figsize=(11, 5))
            for i, rank in enumerate(ranks):
                ax.step(mids, 100 * fraction[i], where="mid", lw=1, alpha=0.7, label=f"rank {rank}")
            if len(ranks):
                ax.plot(mids, 100 * fraction.mean(axis=0), color="black", lw=2, label="mean")
            ax.set_ylim(-2, 105)
            ax.set_ylabel("busy (% of each time bin)")
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
        else:
            fig, (ax, mean_ax) = plt.subplots(2, 1, figsize=(11, 7), sharex=True,
                                              gridspec_kw={"height_ratios": [3, 1]})
            image = ax.imshow(100 * fraction, aspect="auto", interpolation="nearest", cmap="viridis",
                              extent=(edges[0], edges[-1], len(ranks) - 0.5, -0.5), vmin=0, vmax=100)
            ticks = np.unique(np.linspace(0, len(ranks) - 1, min(len(ranks), 12)).round().astype(int))
            ax.set_yticks(ticks, [str(ranks[i]) for i in ticks])
            ax.set_ylabel("worker rank")
            fig.colorbar(image, ax=[ax, mean_ax], label="busy %")
            mean_ax.plot(mids, 100 * fraction.mean(axis=0), color="black", lw=1.5)
            mean_ax.set_ylabel("mean busy %")
            mean_ax.set_ylim(-2, 105)
            ax = mean_ax
        fig.suptitle(f"job '{name}': worker busy fraction from /attempts "
                     f"({len(ranks)} workers, {len(results.attempts)} attempts)")
    ax.set_xlabel("seconds since job start")
    fig.savefig(png, dpi=100, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Read FastGPU results files (HDF5).")
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("summary", help="print a summary of a results file")
    p.add_argument("results")
    p = commands.add_parser("plot-utilization", help="plot worker utilization over time to a PNG")
    p.add_argument("results")
    p.add_argument("png")
    p.add_argument("--bins", type=int, default=200, help="time bins (default 200)")
    args = parser.parse_args(argv)
    try:
        results = load(args.results)
    except (OSError, ValueError) as e:
        print(f"fastgpu_results: error: {args.results}: {e}", file=sys.stderr)
        return 2
    if args.command == "summary":
        summary(results)
    else:
        if args.bins < 1:
            parser.error("--bins must be at least 1")
        plot_utilization(results, args.png, args.bins)
        print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
