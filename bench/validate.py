"""Validation speed against a plain polars read and pandera-on-polars of the same CSV, in the same run.

    python bench/validate.py [--rows 100000,1000000] [--with-5m] [--runs 3] [--skip-pandera] [--xlsx-rows 0]

Each figure is the median of `--runs` fresh processes (nothing cached, nothing left over), wall and
CPU seconds of the work itself (imports excluded), and the process's peak memory, measured by a
parent via resource.getrusage(RUSAGE_CHILDREN). The three contenders, all starting from the path:

* read:      pl.read_csv(path, infer_schema=False) (every column as text, as BulkAssist reads it)
* validate:  bulkassist.validate(path, "client", "add_update") with its full report: issues with
             suggestions placed on their cells, row actions and the summary
* pandera:   the same read, then the client schema's pandera-polars checks (`to_pandera`, lazy=True)

Targets (issue 15, 2 cores): validate <= 2.0x read and <= pandera at 1M rows; at 5M rows
(--with-5m) peak memory <= 1.3x the read's peak, and seconds per row within 1.2x of 1M's (linear).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from _data import client_frame  # noqa: E402

OUT = Path(__file__).parent / "out"
CHUNK = 1_000_000

# Runs one contender in this (fresh) process and prints its timings as JSON.
_WORKER = r"""
import json, sys, time
what, path = sys.argv[1], sys.argv[2]
import polars as pl
if what == "validate":
    import bulkassist
elif what == "pandera":
    import pandera.errors
    from bulkassist.domains import get_domain
    from bulkassist.engine.selectlists import demo_lists
    from bulkassist.schema import to_pandera
    schema = to_pandera(get_domain("client"), "add", backend="polars")
wall, cpu = time.perf_counter(), time.process_time()
if what == "read":
    found = pl.read_csv(path, infer_schema=False).height
elif what == "validate":
    report = bulkassist.validate(path, "client", "add_update")
    found = report.cell_issues.height  # the full report: issues placed on their cells
    summary = report.summary
else:
    frame = pl.read_csv(path, infer_schema=False)
    try:
        schema.validate(frame, lazy=True)
        found = 0
    except pandera.errors.SchemaErrors as exc:
        found = len(exc.failure_cases)
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "found": found}))
"""

# The parent of one worker: its peak memory is the largest child's (there is only one).
_MEASURE = r"""
import json, resource, subprocess, sys
out = subprocess.run([sys.executable, "-c", sys.argv[1], *sys.argv[2:]], check=True, capture_output=True, text=True)
result = json.loads(out.stdout.strip().splitlines()[-1])
result["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(result))
"""


def measure(contenders: list[str], path: Path, runs: int) -> dict[str, dict[str, float]]:
    """Per contender, medians of `runs` fresh processes: wall, cpu, peak_mb (and what it found). The runs
    are interleaved (read, validate, pandera, then validate, pandera, read, ...) so a change in the machine's
    load hits all alike, and each round starts with the next contender: on this VM a process run right after
    a heavy one measured slower (1M validate: 0.1-0.2 s more CPU in second place than in first, 2026-12-03),
    so no contender always follows the same one."""
    results: dict[str, list[dict[str, float]]] = {what: [] for what in contenders}
    for turn in range(runs):
        shift = turn % len(contenders)
        for what in contenders[shift:] + contenders[:shift]:
            results[what].append(json.loads(subprocess.check_output(
                [sys.executable, "-c", _MEASURE, _WORKER, what, str(path)], env={**os.environ})))
    return {what: {key: statistics.median(r[key] for r in got) for key in ("wall", "cpu", "peak_mb", "found")}
            for what, got in results.items()}


def data_file(rows: int) -> Path:
    """The client CSV of `rows` rows, written once: 1M-row chunks of `client_frame` with their own seeds
    (so 5M rows never sit in memory as Python objects)."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"clients_{rows}.csv"
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("wb") as fh:
            for n, start in enumerate(range(0, rows, CHUNK)):
                client_frame(min(CHUNK, rows - start), seed=7 + n).write_csv(fh, include_header=n == 0)
        partial.rename(path)
    return path


def uptime() -> str:
    """What `uptime` prints (the machine's load is part of every figure), or the load averages without it."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="100000,1000000", help="comma-separated sizes (default 100000,1000000)")
    parser.add_argument("--with-5m", action="store_true", help="add 5,000,000 rows (memory and linearity targets)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-pandera", action="store_true")
    parser.add_argument("--xlsx-rows", type=int, default=0, help="also time read + validate of an XLSX this long")
    args = parser.parse_args()
    sizes = [int(r) for r in args.rows.split(",") if r]
    if args.with_5m and 5_000_000 not in sizes:
        sizes.append(5_000_000)
    print(f"machine: {os.cpu_count()} cores; medians of {args.runs} fresh processes; polars {pl.__version__}")
    print(f"uptime (start): {uptime()}")

    figures: dict[int, dict[str, dict[str, float]]] = {}
    for rows in sizes:
        path = data_file(rows)
        got = measure(["read", "validate"] + ([] if args.skip_pandera else ["pandera"]), path, args.runs)
        figures[rows] = got
        read = got["read"]
        print(f"\n{rows:,} rows x 13 columns ({path.stat().st_size / 1e6:,.0f} MB):")
        for what, label in (("read", "plain polars read (all text)"), ("validate", "BulkAssist validate, full report"),
                            ("pandera", "pandera-polars, same checks")):
            if what not in got:
                continue
            g = got[what]
            found = "" if what == "read" else f"  ({int(g['found']):,} {'cell issues' if what == 'validate' else 'failure cases'})"
            print(f"  {label:34} wall {g['wall']:6.2f} s ({g['wall'] / read['wall']:4.2f}x read)  "
                  f"cpu {g['cpu']:6.2f} s ({g['cpu'] / read['cpu']:4.2f}x)  peak {g['peak_mb']:6,.0f} MB "
                  f"({g['peak_mb'] / read['peak_mb']:4.2f}x){found}")

    print("\ntargets (issue 15):")
    big = [r for r in figures if r >= 1_000_000]
    if big:
        at = min(big)
        got = figures[at]
        ratio = got["validate"]["wall"] / got["read"]["wall"]
        cpu = got["validate"]["cpu"] / got["read"]["cpu"]
        print(f"  {verdict(ratio <= 2.0)} {at:,} rows: validate / read = {ratio:.2f}x wall (target <= 2.0x)")
        print(f"  {verdict(cpu <= 2.0)} {at:,} rows: validate / read = {cpu:.2f}x cpu (target <= 2.0x)")
        if "pandera" in got:
            vs = got["validate"]["wall"] / got["pandera"]["wall"]
            vs_cpu = got["validate"]["cpu"] / got["pandera"]["cpu"]
            print(f"  {verdict(vs <= 1.0)} {at:,} rows: validate / pandera-polars = {vs:.2f}x wall (target <= 1.0x)")
            print(f"  {verdict(vs_cpu <= 1.0)} {at:,} rows: validate / pandera-polars = {vs_cpu:.2f}x cpu "
                  f"(target <= 1.0x)")
    else:
        print("  (no size >= 1,000,000 rows measured: the 2.0x and pandera targets are stated at 1M rows)")
    if 5_000_000 in figures:
        got = figures[5_000_000]
        peak = got["validate"]["peak_mb"] / got["read"]["peak_mb"]
        print(f"  {verdict(peak <= 1.3)} 5,000,000 rows: peak memory validate / read = {peak:.2f}x "
              f"({got['validate']['peak_mb']:,.0f} / {got['read']['peak_mb']:,.0f} MB; target <= 1.3x)")
        if 1_000_000 in figures:
            per_row = (got["validate"]["wall"] / 5) / figures[1_000_000]["validate"]["wall"]
            print(f"  {verdict(per_row <= 1.2)} linear 1M -> 5M: seconds per row at 5M = {per_row:.2f}x those at 1M "
                  f"(target <= 1.2x)")
    else:
        print("  (5M-row targets not measured: add --with-5m)")
    print(f"uptime (end): {uptime()}")

    if args.xlsx_rows:
        import time

        import bulkassist

        xlsx = OUT / f"clients_{args.xlsx_rows}.xlsx"
        if not xlsx.exists():
            client_frame(args.xlsx_rows).write_excel(xlsx, autofit=False)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            assert bulkassist.validate(xlsx, "client", "add_update").cell_issues.height  # the full report
            times.append(time.perf_counter() - start)
        print(f"\n{args.xlsx_rows:,}-row XLSX read + validate: {statistics.median(times):.2f} s wall")


if __name__ == "__main__":
    main()
