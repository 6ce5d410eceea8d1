"""Validation speed: 1M-row client CSV and 100k-row XLSX, against pandera in the same run.

    python bench/validate.py [--rows 1000000] [--xlsx-rows 100000] [--skip-pandera]

Prints medians of three runs. Targets (issue 2, 2 cores): read + full report with
suggestions <= 1.0 s at 1M rows (<= 1.5 s with suggestions), peak memory <= 1 GB,
100k-row XLSX read + validate <= 2.5 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from _data import client_frame  # noqa: E402

import bulkassist  # noqa: E402
from bulkassist.domains import get_domain  # noqa: E402
from bulkassist.io.reading import read_table  # noqa: E402
from bulkassist.schema import to_pandera  # noqa: E402

OUT = Path(__file__).parent / "out"


def median_of(fn, runs: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


_FRESH = """
import json, resource, sys, time
import bulkassist
start = time.perf_counter()
report = bulkassist.validate(sys.argv[1], "client", "add_update")
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "issues": report.cell_issues.height}))
"""


def fresh_runs(path: Path, runs: int = 3) -> tuple[float, float]:
    """Median seconds and peak RSS of `validate(path)` from a new process each time (nothing cached, nothing left over)."""
    results = [json.loads(subprocess.check_output([sys.executable, "-c", _FRESH, str(path)])) for _ in range(runs)]
    return statistics.median(r["seconds"] for r in results), max(r["peak_mb"] for r in results)


def data_files(rows: int, xlsx_rows: int) -> tuple[Path, Path]:
    OUT.mkdir(exist_ok=True)
    csv_path, xlsx_path = OUT / f"clients_{rows}.csv", OUT / f"clients_{xlsx_rows}.xlsx"
    if not csv_path.exists():
        client_frame(rows).write_csv(csv_path)
    if not xlsx_path.exists():
        client_frame(xlsx_rows).write_excel(xlsx_path, autofit=False)
    return csv_path, xlsx_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--xlsx-rows", type=int, default=100_000)
    parser.add_argument("--skip-pandera", action="store_true")
    args = parser.parse_args()
    csv_path, xlsx_path = data_files(args.rows, args.xlsx_rows)
    print(f"data: {csv_path.name} ({csv_path.stat().st_size / 1e6:.0f} MB), {xlsx_path.name}")

    t_read, table = median_of(lambda: read_table(csv_path))
    t_val, report = median_of(lambda: bulkassist.validate(table, "client", "add_update"))
    t_total, peak_mb = fresh_runs(csv_path)
    s = report.summary
    bad_cells = report.cell_issues.height
    print(f"{args.rows:,} rows x 13 columns: {bad_cells:,} cell issues ({bad_cells / (args.rows * 13):.1%}), "
          f"{report.cell_issues['suggestion'].is_not_null().sum():,} with a suggestion; "
          f"valid {s['valid']:,}, errors {s['errors']:,}")
    print(f"  read CSV                           {t_read:6.2f} s")
    print(f"  validate (cell report + suggestions) {t_val:4.2f} s")
    print(f"  read + validate, new process       {t_total:6.2f} s   target <= 1.0 s (<= 1.5 s with suggestions)")
    print(f"  peak memory of that process (RSS)  {peak_mb:6.0f} MB  target <= 1024 MB")

    del report
    t_x, xreport = median_of(lambda: bulkassist.validate(xlsx_path, "client", "add_update"))
    print(f"{args.xlsx_rows:,}-row XLSX read + validate       {t_x:6.2f} s   target <= 2.5 s "
          f"({xreport.cell_issues.height:,} cell issues)")

    if args.skip_pandera:
        return
    import pandas as pd
    import pandera.errors

    domain = get_domain("client")
    frame = table.frame
    pl_schema = to_pandera(domain, "add", backend="polars")
    pd_schema = to_pandera(domain, "add", backend="pandas")
    pdf = pd.read_csv(csv_path, dtype="string", keep_default_na=False).replace("", pd.NA)

    def run(schema, data):
        try:
            schema.validate(data, lazy=True)
            return 0
        except pandera.errors.SchemaErrors as exc:
            return len(exc.failure_cases)

    t_pap, n_pap = median_of(lambda: run(pl_schema, frame), runs=1 if args.rows > 200_000 else 3)
    t_pan, n_pan = median_of(lambda: run(pd_schema, pdf), runs=1 if args.rows > 200_000 else 3)
    print(f"pandera baselines on the same {args.rows:,} rows (format checks only: no suggestions, no row actions)")
    for label, seconds, failures in (("pandera polars backend", t_pap, n_pap),
                                     ("pandera pandas backend (defaults)", t_pan, n_pan)):
        print(f"  {label:34} {seconds:6.2f} s  ({failures:,} failure cases)  "
              f"ratio BulkAssist validate / pandera = {t_val / seconds:.2f}")


if __name__ == "__main__":
    pl.Config.set_tbl_rows(20)
    main()
