"""Bench: what Run Workflow on Import costs (seed 001). Commits N case rows without the option and with it
(one outbox event per case, written in the commit's transactions), on a real server, and then how fast the
server's delivery thread POSTs the events to a local receiver.

    python bench/events.py                          # 20,000 cases, SQLite and PostgreSQL
    python bench/events.py --rows 2000 --databases sqlite

Prints the commit seconds (median of --repeat runs each) with and without events, their ratio (target:
<= 1.5x, PASS/FAIL), and events delivered per second.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.receiver import Receiver  # noqa: E402

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_RATIO = 1.5


def cases_csv(rows: int) -> bytes:
    run = uuid.uuid4().hex[:6]
    frame = pl.DataFrame({"Identifier": [f"b{run}{i}" for i in range(rows)], "FirstName": ["Bench"] * rows,
                          "LastName": [f"Case{i}" for i in range(rows)], "Status": ["ACTIVE"] * rows,
                          "TreatmentPeriod": ["1"] * rows})
    out = io.BytesIO()
    frame.write_csv(out)
    return out.getvalue()


def commit_seconds(client, rows: int, run_workflow: bool) -> tuple[float, int]:
    imp = client.start_import(cases_csv(rows), "case", "add", name="bench-cases.csv",
                              options={"run_workflow": run_workflow})
    t0 = time.perf_counter()
    final = imp.commit(poll=0.05, timeout=1800)
    seconds = time.perf_counter() - t0
    assert final["status"] == "Committed" and final["committed"]["inserted"] == rows, final
    return seconds, imp.id


def bench(database_url: str | None, rows: int, repeat: int, folder: Path) -> None:
    from bulkassist.client import Client
    from bulkassist.server.launch import start_server_process

    env = {"BULKASSIST_WEBHOOK_POLL": "0.2"}
    server = start_server_process(database_url, data_dir=folder, env=env)
    try:
        client = Client(server.url, server.tokens["importer"], timeout=600)
        admin = Client(server.url, server.tokens["admin"])
        with Receiver() as receiver:
            hook = admin.add_webhook(receiver.url)
            plain, evented, delivery = [], [], []
            for _ in range(repeat):
                plain.append(commit_seconds(client, rows, False)[0])
                seconds, import_id = commit_seconds(client, rows, True)
                evented.append(seconds)
                t0 = time.perf_counter()
                receiver.wait_for(import_id, rows, timeout=3600)
                delivery.append(rows / (time.perf_counter() - t0 + seconds))
            admin.delete_webhook(hook["id"])
    finally:
        server.stop()
    p, e = statistics.median(plain), statistics.median(evented)
    ratio = e / p
    name = "postgresql" if database_url else "sqlite"
    print(f"{name}: {rows:,} cases — commit {p:.2f} s without events, {e:.2f} s with events "
          f"(ratio {ratio:.2f}x, target <= {TARGET_RATIO}x: {'PASS' if ratio <= TARGET_RATIO else 'FAIL'}); "
          f"delivered {statistics.median(delivery):,.0f} events/s from the commit's start "
          f"(medians of {repeat})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"])
    args = parser.parse_args()
    for database in args.databases:
        with tempfile.TemporaryDirectory() as tmp:
            url = None
            schema = None
            if database == "postgres":
                from tests.conftest import drop_pg_schema, fresh_pg_schema

                url, schema = fresh_pg_schema()
            try:
                bench(url, args.rows, args.repeat, Path(tmp))
            finally:
                if schema:
                    drop_pg_schema(schema)


if __name__ == "__main__":
    main()
