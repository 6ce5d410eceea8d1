"""Excel add-in benchmark: a client sheet through Validate on xlwings' remote engine, against the old path.

    XLWINGS_LICENSE_KEY=noncommercial python bench/excel.py [--rows 1000000] [--runs 3] [--baseline-rows N]

Builds the JSON payload Excel sends for a deterministic 13-column client sheet
with about 3% bad cells scattered over it (`_data.client_frame`), then in a
fresh subprocess per run times payload -> action list: `xw.Book(json=payload)`,
`bulkassist.excel.validate(book)` and `json.dumps` of the actions (the code
path of Excel on the web / xlwings Server / xlwings Lite). Peak memory is the
child's resident peak over that span (VmHWM reset just before it), the
payload included. Then, untimed: the number of actions by kind and the size of
the largest.

The baseline, measured in the same run on the same payload, is the path before
issue 15 kept here as `old_path()`: the sheet read through `Range.raw_value`,
one xlwings Range per vertical run of marked cells, `Range.add_note` per note,
every value block written in one action. Its peak passed 9 GB at 1M rows:
`--baseline-rows` runs it on a smaller sheet (ratios are then per row).

Targets (issue 15, at 1M rows): payload -> actions <= 8 s, peak <= 3 GB, no
action over 10 MB. Medians of --runs; CPU and wall seconds. Figures, not a timed test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TARGET_S, TARGET_PEAK_MB, TARGET_ACTION_MB = 8.0, 3000, 10.0


def payload(rows: int) -> dict[str, Any]:
    """The payload an Office.js client posts for a client sheet of `rows` records (blanks as "")."""
    sys.path.insert(0, str(HERE))
    import xlwings as xw
    from _data import client_frame

    frame = client_frame(rows).fill_null("")
    values = [list(frame.columns), *(list(r) for r in frame.iter_rows())]
    del frame
    return {
        "client": "Office.js", "version": xw.__version__,
        "book": {"name": "clients.xlsx", "active_sheet_index": 0, "selection": "A1"}, "names": [],
        "sheets": [{"name": "Clients", "values": values, "pictures": [], "tables": [], "notes": [],
                    "visibility": "Visible"}],
    }


# ------------------------------------------------------------------ the path before issue 15
def old_path() -> None:
    """Put back, in this (child) process, how Validate painted before issue 15."""
    import gc

    import polars as pl

    import bulkassist.excel.commands as commands
    import bulkassist.excel.grid as grid
    from bulkassist.excel.painter import COLORS, FILL, NOTE, Mark, Painter, vertical_runs

    grid.payload_values = lambda sheet: None  # read through Range.raw_value
    grid.MAX_ACTION_BYTES = 10**15  # every block in one action
    commands.gc = type("CollectorOn", (), {"isenabled": staticmethod(lambda: False),
                                            "disable": staticmethod(lambda: None),
                                            "enable": staticmethod(lambda: None)})
    assert gc.isenabled()

    def runs(cells: pl.DataFrame) -> pl.DataFrame:  # vertical runs only
        return vertical_runs(cells).select("first_row", "last_row", pl.col("column").alias("first_column"),
                                           pl.col("column").alias("last_column"), "kind")

    def fill(self: Painter, sheet: Any, rects: pl.DataFrame) -> int:
        count = 0
        for first_row, last_row, column, _, kind in rects.iter_rows():
            rng = sheet.range((first_row, column), (last_row, column))
            rng.color = COLORS[kind]
            self.marks.append(Mark(sheet.name, rng.address, FILL))
            count += 1
        return count

    def notes(self: Painter, sheet: Any, texts: pl.DataFrame) -> int:
        count = 0
        for row, column, text in texts.iter_rows():
            cell = sheet.range((row, column))
            try:
                cell.add_note(text)
            except ValueError:
                self.notes_skipped += 1
                continue
            self.marks.append(Mark(sheet.name, cell.address, NOTE))
            count += 1
        return count

    commands.rectangles = runs
    Painter.fill = fill
    Painter.notes = notes


# ------------------------------------------------------------------ one measured run (child process)
def _hwm_mb() -> float:
    return int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1)) / 1024


def child(rows: int, old: bool) -> dict[str, Any]:
    import gc

    import xlwings as xw

    import bulkassist.excel as bx

    if old:
        old_path()
    body = payload(rows)
    gc.collect()
    Path("/proc/self/clear_refs").write_text("5")  # peak RSS from here on
    cpu, wall = time.process_time(), time.perf_counter()
    book = xw.Book(json=body)
    report = bx.validate(book)
    text = json.dumps(book.json(), default=str)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    peak = _hwm_mb()
    actions = book.json()["actions"]
    sizes = [len(json.dumps(a, default=str)) for a in actions]
    biggest = max(range(len(actions)), key=sizes.__getitem__)
    return {
        "rows": rows, "wall_s": wall, "cpu_s": cpu, "peak_mb": peak, "json_mb": len(text) / 1e6,
        "actions": dict(Counter(a["func"] for a in actions)),
        "max_action_mb": sizes[biggest] / 1e6, "max_action": actions[biggest]["func"],
        "invalid_cells": report.cell_issues.select("row", "col_index").unique().height,
    }


def measure(rows: int, runs: int, old: bool) -> list[dict[str, Any]]:
    out = []
    for _ in range(runs):
        cmd = [sys.executable, __file__, "--child", "--rows", str(rows)] + (["--old"] if old else [])
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, env=os.environ)
        if done.returncode:
            sys.exit(f"child failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
        out.append(json.loads(done.stdout.strip().splitlines()[-1]))
        r = out[-1]
        print(f"  {'old path' if old else 'run'} {len(out)}: {r['rows']:,} rows {r['wall_s']:.2f} s wall "
              f"{r['cpu_s']:.2f} s CPU, peak {r['peak_mb']:,.0f} MB, largest action {r['max_action_mb']:.2f} MB",
              flush=True)
    return out


def median(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in results)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline-rows", type=int, default=None,
                        help="rows for the old path (default: --rows; its peak passed 9 GB at 1M rows)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--old", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    import xlwings as xw

    if "remote" not in [e.name for e in xw.engines]:
        sys.exit("the xlwings remote engine needs a licence key: run with XLWINGS_LICENSE_KEY=noncommercial")
    if args.child:
        print(json.dumps(child(args.rows, args.old)))
        return

    base_rows = args.rows if args.baseline_rows is None else args.baseline_rows
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip(),
          f"({os.cpu_count()} cores); medians of {args.runs} runs, each in a fresh process")
    new = measure(args.rows, args.runs, old=False)
    old = measure(base_rows, args.runs, old=True)
    n, o = new[-1], old[-1]
    scale = args.rows / base_rows  # the baseline per row, scaled to --rows when it ran smaller
    wall, cpu, peak = median(new, "wall_s"), median(new, "cpu_s"), median(new, "peak_mb")
    owall, ocpu, opeak = median(old, "wall_s") * scale, median(old, "cpu_s") * scale, median(old, "peak_mb")
    biggest = max(r["max_action_mb"] for r in new)
    note = "" if scale == 1 else f" (old path run on {base_rows:,} rows, times scaled x{scale:g})"
    print(f"== {args.rows:,} rows x 13 columns, {n['invalid_cells']:,} invalid cells scattered{note}")
    print(f"payload -> actions: {wall:.2f} s wall, {cpu:.2f} s CPU; old path {owall:.2f} s wall, {ocpu:.2f} s CPU; "
          f"ratio old/new {owall / wall:.1f}x wall, {ocpu / cpu:.1f}x CPU"
          f"   target <= {TARGET_S:g} s: {verdict(wall <= TARGET_S)}")
    print(f"peak memory (payload included): {peak:,.0f} MB; old path {opeak:,.0f} MB at {base_rows:,} rows"
          f"   target <= {TARGET_PEAK_MB:,} MB: {verdict(peak <= TARGET_PEAK_MB)}")
    print(f"largest action: {biggest:.2f} MB ({n['max_action']}); old path {o['max_action_mb']:.2f} MB "
          f"({o['max_action']})   target <= {TARGET_ACTION_MB:g} MB: {verdict(biggest <= TARGET_ACTION_MB)}")
    print(f"fill actions: {n['actions'].get('setRangeColor', 0):,} (old path "
          f"{o['actions'].get('setRangeColor', 0):,} at {base_rows:,} rows); action JSON {n['json_mb']:.1f} MB in "
          f"{sum(n['actions'].values()):,} actions: {n['actions']}")


if __name__ == "__main__":
    main()
