"""Bench: column mapping (issue 9).

1. Proposing a mapping for a 100-column, 1M-row file (target <= 0.2 s): `propose_mapping` reads a bounded
   sample of each column, so it is timed against the same proposal on a 1,000-row file in the same run
   (the ratio should stay near 1x: the file's length does not matter).
2. A bulk fix ("apply to all") over 100k rows of a 1M-row import on PostgreSQL (target <= 2 s): one
   POST /imports/{id}/fix over HTTP to a real server, revalidated once; against a one-row edit
   (PATCH /rows/{row}) of the same import, which also revalidates the whole file once.

    python bench/mapping.py                              # 1M rows, 100 columns, PostgreSQL
    python bench/mapping.py --rows 100000 --databases sqlite,postgres

Medians of --repeat (>= 3) runs; PASS / FAIL against each target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).parent))
from _data import drop_schema, pg_schema_url  # noqa: E402

import bulkassist  # noqa: E402
from bulkassist.engine.mapping import propose_mapping  # noqa: E402
from bulkassist.io.reading import Table  # noqa: E402

PROPOSE_TARGET_S = 0.2
FIX_TARGET_S = 2.0


def wide_table(rows: int, columns: int) -> Table:
    """A `columns`-wide table of `rows` rows. Its columns share six distinct buffers (polars columns are
    reference-counted), so a million rows by a hundred columns fits in memory on a small machine."""
    n = pl.int_range(rows, eager=True)
    base = pl.DataFrame({
        "id": n.cast(pl.String),
        "email": pl.select(pl.format("p{}@example.org", n)).to_series(),
        "phone": pl.Series(["333-333-4444"] * rows),
        "date": pl.Series(["01/02/2027"] * rows),
        "status": pl.Series(["ACTIVE", "INACTIVE"] * (rows // 2) + ["ACTIVE"] * (rows % 2)),
        "text": pl.Series(["some note"] * rows),
    })
    kinds = base.columns
    names = [f"Column {i} {kinds[i % len(kinds)]}" for i in range(columns)]
    frame = base.select(pl.col(kinds[i % len(kinds)]).alias(names[i]) for i in range(columns))
    return Table(frame=frame, headers=names, source="wide.csv")


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_propose(rows: int, columns: int, repeat: int) -> None:
    domain = bulkassist.get_domain("case")
    lists = bulkassist.demo_lists()
    big, small = wide_table(rows, columns), wide_table(1_000, columns)
    propose_mapping(small, domain, lists=lists)  # warm up (rapidfuzz, regex compilation)
    t_big = median_time(lambda: propose_mapping(big, domain, lists=lists), repeat)
    t_small = median_time(lambda: propose_mapping(small, domain, lists=lists), repeat)
    verdict = "PASS" if t_big <= PROPOSE_TARGET_S else "FAIL"
    print(f"propose_mapping {columns} columns x {rows:,} rows: median {t_big:.3f} s (target <= {PROPOSE_TARGET_S} s) "
          f"{verdict}; 1,000 rows: {t_small:.3f} s; ratio {t_big / t_small:.2f}x")


def case_frame(rows: int) -> pl.DataFrame:
    """A case file whose Status is INACTIVE on every tenth row (the cells the bulk fix changes)."""
    n = pl.int_range(rows, eager=True)
    return pl.DataFrame({
        "Student Number": n.cast(pl.String).str.pad_start(8, "0"),
        "FirstName": pl.Series(["Ann", "Bo", "Cy"] * (rows // 3 + 1))[:rows],
        "LastName": pl.Series(["Lee", "Ng", "Roe"] * (rows // 3 + 1))[:rows],
        "Mobile": pl.Series(["333-333-4444"] * rows),
        "Status": pl.select(pl.when(n % 10 == 0).then(pl.lit("INACTIVE")).otherwise(pl.lit("ACTIVE"))).to_series(),
    })


def bench_fix(database_url: str, rows: int, repeat: int, folder: Path, label: str) -> None:
    from bulkassist.client import Client
    from bulkassist.server.launch import start_server_process

    server = start_server_process(database_url, data_dir=folder)
    try:
        client = Client(server.url, server.tokens["importer"], timeout=900)
        t0 = time.perf_counter()
        imp = client.start_import(case_frame(rows), "case", "add", name="cases.csv",
                                  mapping={"Student Number": "Identifier", "Mobile": "CellPhoneNumber"})
        loaded = time.perf_counter() - t0
        values = ["INACTIVE", "COMPLETE"]
        fixes, changed = [], set()
        for i in range(repeat):
            old, new = values[i % 2], values[(i + 1) % 2]
            t = time.perf_counter()
            answer = imp.apply_to_all("Status", old, new)
            fixes.append(time.perf_counter() - t)
            changed.add(answer["cells_changed"])
        edits = []
        for i in range(repeat):
            t = time.perf_counter()
            imp.edit_row(2 + i, {"FirstName": f"Edited{i}"})
            edits.append(time.perf_counter() - t)
    finally:
        server.stop()
    fix, edit = statistics.median(fixes), statistics.median(edits)
    verdict = "PASS" if fix <= FIX_TARGET_S else "FAIL"
    print(f"{label:<9} bulk fix of {sorted(changed)} cells in a {rows:,}-row import: median {fix:.2f} s "
          f"(target <= {FIX_TARGET_S} s) {verdict}; one-row edit {edit:.2f} s; ratio {fix / edit:.2f}x "
          f"(upload + validate {loaded:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--columns", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--databases", default="postgres", help="postgres, sqlite or both, comma-separated")
    args = parser.parse_args()
    repeat = max(args.repeat, 3)
    bench_propose(args.rows, args.columns, repeat)
    with tempfile.TemporaryDirectory(prefix="bench-mapping-") as tmp:
        for db in args.databases.split(","):
            schema = None
            if db == "sqlite":
                url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
            else:
                url, schema = pg_schema_url()
            try:
                bench_fix(url, args.rows, repeat, Path(tmp) / db, db)
            finally:
                if schema:
                    drop_schema(schema)


if __name__ == "__main__":
    main()
