"""Bench: the preview of changes for 100k Update rows on SQLite and PostgreSQL — the time from validation
done to preview ready (issue 14: <= 3 s on PostgreSQL).

    python bench/preview.py                 # 100k rows, SQLite and PostgreSQL, medians of 3
    python bench/preview.py --rows 20000 --databases sqlite --repeat 3

Set-up per database (not timed): the schema migrated and seeded as the server does, `--rows` stored
clients of the demo organisation written in bulk (then ANALYZE on PostgreSQL, as autovacuum would), an
Import, and the reviewed rows of an update file
naming them by Client ID: 80% change two fields, 10% leave a cell blank (kept) and change nothing
else, 10% equal their record (No change).

Timed, in process, as `lifecycle._validated` / `_store` run it after validation: `preview.preview`
(one join query per 10k rows, the comparison in polars) plus `preview.store` and the transaction's
commit. Baseline, same run and database: reading the same records' stored data the way the commit's
updates do (`RecordStore.data_by_id`, a chunk of IDs per query). Prints the median of `--repeat`
runs of each, their ratio, and PASS/FAIL against the 3 s target.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _data import client_frame, drop_schema, pg_schema_url  # noqa: E402

TARGET_S = 3.0
FIELDS = ["First Name", "Last Name", "Email Address", "Phone Number", "Date of Birth", "Language",
          "Ethnicity", "Staff Name", "Client Type"]


def setup(url: str, rows: int):
    """(sessions, org id, import id, reviewed rows) on a migrated, seeded database holding `rows` clients."""
    from bulkassist.domains import get_domain
    from bulkassist.server.bulk import allocate_ids, insert_rows
    from bulkassist.server.db import make_engine, sessions
    from bulkassist.server.launch import prepare_database
    from bulkassist.server.models import Import, Organisation, Record, User, utcnow

    prepare_database(url)
    engine = make_engine(url)
    maker = sessions(engine)
    frame = client_frame(rows, bad_share=0.0).select(FIELDS)
    with maker.begin() as session:
        org = session.scalar(sa.select(Organisation).where(Organisation.name == "Demo Organisation"))
        user = session.scalar(sa.select(User).where(User.org_id == org.id, User.name == "importer"))
        ids = allocate_ids(session, Record.__table__, rows)
        now = utcnow()
        insert_rows(session, Record.__table__, ("id", "org_id", "domain", "key", "parent_id", "import_id", "data",
                                                "created_at"),
                    [(i, org.id, "client", None, None, None, d, now) for i, d in zip(ids, frame.to_dicts(),
                                                                                      strict=True)])
        imp = Import(org_id=org.id, user_id=user.id, domain="client", operation="update", options={},
                     file_name="bench.csv", status="Validated")
        session.add(imp)
        session.flush()
        org_id, import_id = org.id, imp.id
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:  # what autovacuum does after a bulk load; the baseline's IN needs it
            conn.execute(sa.text("ANALYZE records"))
    share = pl.int_range(0, rows, eager=True) % 10
    updated = frame.with_columns(
        pl.when(share < 8).then(pl.col("First Name") + "x").otherwise(pl.col("First Name")).alias("First Name"),
        pl.when(share < 8).then(pl.lit("Spanish")).otherwise(pl.col("Language")).alias("Language"),
        pl.when(share == 8).then(pl.lit(None, pl.String)).otherwise(pl.col("Phone Number")).alias("Phone Number"),
    )
    reviewed = pl.concat([
        pl.DataFrame({"Client ID": [str(i) for i in ids]}), updated,
        pl.DataFrame({"row": pl.int_range(2, rows + 2, eager=True), "action": ["Update"] * rows}),
    ], how="horizontal")
    get_domain("client")  # the spec loads once, outside the timings
    return engine, maker, org_id, import_id, reviewed, ids


def time_preview(maker, org_id: int, import_id: int, reviewed: pl.DataFrame) -> tuple[float, dict[str, int]]:
    from bulkassist.domains import get_domain
    from bulkassist.server import preview
    from bulkassist.server.domains import Context, behaviour_for
    from bulkassist.server.models import Import

    dom = get_domain("client")
    t0 = time.perf_counter()
    with maker.begin() as session:
        ctx = Context(session, org_id, import_id, dom, "update", {})
        changes, actions = preview.preview(ctx, behaviour_for(dom), reviewed)
        preview.store(session, session.get(Import, import_id), changes)
    elapsed = time.perf_counter() - t0
    counts = {"changes": changes.height, "no_change": int((actions == "No change").sum()),
              "kept": changes.filter(pl.col("change") == "kept").height}
    return elapsed, counts


def time_baseline(maker, org_id: int, ids: list[int]) -> float:
    from bulkassist.server.domains import RecordStore

    t0 = time.perf_counter()
    with maker.begin() as session:
        found = RecordStore(session, org_id).data_by_id("client", ids)
    assert len(found) == len(ids)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (the median is shown; >= 3)")
    args = parser.parse_args()
    repeat = max(3, args.repeat)
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="bench-preview-") as tmp:
        for db in args.databases.split(","):
            schema = None
            url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}" if db == "sqlite" else None
            if url is None:
                url, schema = pg_schema_url()
            try:
                engine, maker, org_id, import_id, reviewed, ids = setup(url, args.rows)
                runs, counts = [], {}
                for _ in range(repeat):
                    elapsed, counts = time_preview(maker, org_id, import_id, reviewed)
                    runs.append(elapsed)
                base = statistics.median(time_baseline(maker, org_id, ids) for _ in range(repeat))
                took = statistics.median(runs)
                engine.dispose()
            finally:
                if schema:
                    drop_schema(schema)
            verdict = "PASS" if took <= TARGET_S else "FAIL"
            verdicts.append(verdict)
            print(f"{db:9s} {args.rows:,} update rows: preview ready {took:.2f} s after validation "
                  f"(median of {repeat}: {', '.join(f'{r:.2f}' for r in runs)}); baseline read of the same records "
                  f"{base:.2f} s, ratio {took / base:.2f}x; {counts['changes']:,} entries, {counts['kept']:,} kept, "
                  f"{counts['no_change']:,} No change rows; target <= {TARGET_S:.0f} s: {verdict}", flush=True)
    sys.exit(0 if all(v == "PASS" for v in verdicts) else 1)


if __name__ == "__main__":
    main()
