"""Bench: 100k client rows end to end through the import server (upload, validate, commit) on SQLite
and PostgreSQL, against a plain bulk insert of the same rows into the same database in the same run.

    python bench/commit.py                 # 100k rows, SQLite and PostgreSQL
    python bench/commit.py --rows 20000 --databases sqlite
    python bench/commit.py --rows 20000 --baseline c2c58bc   # this tree against a commit, same run

`--baseline REF` measures the commit of the inserts and of an update of every one of them with the
code of git REF and with this tree, alternately (`--repeat` times each, medians), each in its own
process with its own server, and prints the ratio (target: the change log undo needs costs <= 10%).

Prints seconds per stage, the end-to-end total and its ratio to the plain insert (targets: <= 15 s end
to end per database, ratio <= 3x), and the suggest endpoint's latency on a 2,000-value list (p95 <= 200 ms). The server is a real uvicorn subprocess (`start_server_process`);
the plain insert is SQLAlchemy Core `executemany` of the same rows, as JSON documents, into a
table shaped like the server's records table, in one transaction.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import polars as pl
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
from _data import client_frame, drop_schema, pg_schema_url  # noqa: E402


def rows_file(rows: int, folder: Path) -> Path:
    """A CSV of `rows` valid new clients (blank Client ID: every row an Insert)."""
    frame = client_frame(rows, bad_share=0.0).with_columns(pl.lit(None, pl.String).alias("Client ID"))
    path = folder / f"clients_{rows}.csv"
    frame.write_csv(path)
    return path


def suggest_latency(client, admin, values: int = 2000, queries: int = 200) -> tuple[float, float]:
    """(p50, p95) milliseconds of the suggest endpoint over HTTP on a `values`-long select list."""
    import random

    rng = random.Random(3)
    names = [f"{rng.choice(FIRST)} {rng.choice(LAST)}-{i}" for i in range(values)]
    admin.request("PUT", "/admin/lists/bench_names", json=[{"value": n} for n in names])
    timings = []
    for _ in range(queries):
        word = list(rng.choice(names))
        word[rng.randrange(len(word))] = "x"  # one typo
        t0 = time.perf_counter()
        client.suggest("bench_names", "".join(word))
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    return timings[len(timings) // 2], timings[int(len(timings) * 0.95)]


FIRST = ["Maria", "James", "Ana", "Robert", "Linh", "David", "Fatima", "Carlos", "Grace", "Samuel"]
LAST = ["Lopez", "Smith", "Nguyen", "Johnson", "Garcia", "Brown", "Pierre", "Williams", "Martinez", "Davis"]


def end_to_end(database_url: str, path: Path, folder: Path) -> dict[str, float]:
    from bulkassist.client import Client, _read_rows
    from bulkassist.server.launch import start_server_process

    server = start_server_process(database_url, data_dir=folder)
    try:
        client = Client(server.url, server.tokens["importer"], timeout=600)
        t0 = time.perf_counter()
        headers, rows, name, typed = _read_rows(str(path), name=None, sheet=None, separator=None)
        t1 = time.perf_counter()
        imp = client.create_import("client", "add", file_name=name)
        imp.upload(headers, rows, typed=typed)
        t2 = time.perf_counter()
        summary = imp.validate()
        t3 = time.perf_counter()
        final = imp.commit(poll=0.05, timeout=600)
        t4 = time.perf_counter()
        assert summary["valid"] == len(rows), summary
        assert final["status"] == "Committed" and final["committed"]["inserted"] == len(rows), final
        p50, p95 = suggest_latency(client, Client(server.url, server.tokens["admin"]))
    finally:
        server.stop()
    return {"read": t1 - t0, "upload": t2 - t1, "validate": t3 - t2, "commit": t4 - t3, "total": t4 - t0,
            "suggest_p50_ms": p50, "suggest_p95_ms": p95}


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used: steadier than wall time on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def commit_stages(database_url: str, path: Path, folder: Path) -> dict[str, float]:
    """Seconds (wall, and the server's CPU) to commit the file's rows as inserts, then to commit an update
    of every one of them."""
    from bulkassist.client import Client, _read_rows
    from bulkassist.server.launch import start_server_process

    server = start_server_process(database_url, data_dir=folder)
    try:
        client = Client(server.url, server.tokens["importer"], timeout=600)
        headers, rows, name, typed = _read_rows(str(path), name=None, sheet=None, separator=None)
        imp = client.create_import("client", "add", file_name=name)
        imp.upload(headers, rows, typed=typed)
        imp.validate()
        t0, c0 = time.perf_counter(), cpu_seconds(server.pid)
        final = imp.commit(poll=0.05, timeout=600)
        insert, insert_cpu = time.perf_counter() - t0, cpu_seconds(server.pid) - c0
        assert final["committed"]["inserted"] == rows.height, final
        ids = imp.results()["Created/Updated ID"]
        changed = rows.with_columns(pl.Series("Client ID", ids.to_list()), pl.lit("Changed").alias("First Name"))
        upd = client.create_import("client", "update", file_name="update.csv")
        upd.upload(headers, changed)
        upd.validate()
        t0, c0 = time.perf_counter(), cpu_seconds(server.pid)
        final = upd.commit(poll=0.05, timeout=600)
        update, update_cpu = time.perf_counter() - t0, cpu_seconds(server.pid) - c0
        assert final["committed"]["updated"] == rows.height, final
    finally:
        server.stop()
    return {"insert": insert, "update": update, "insert_cpu": insert_cpu, "update_cpu": update_cpu}


STAGES = ("insert", "update", "insert_cpu", "update_cpu")


def compare(ref: str, rows: int, databases: list[str], repeat: int, folder: Path) -> None:
    """This tree against git `ref`, alternately, each run in a fresh process and server; medians, ratios."""
    here = Path(__file__).resolve().parent.parent
    baseline, current = folder / "baseline", folder / "current"
    baseline.mkdir()
    archive = subprocess.run(["git", "-C", str(here), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(baseline)], input=archive, check=True)
    # This tree as it is now: edits made while the bench runs do not leak into later runs.
    shutil.copytree(here / "bulkassist", current / "bulkassist")
    trees = {"baseline": baseline, "this tree": current}
    for db in databases:
        times: dict[str, dict[str, list[float]]] = {t: {s: [] for s in STAGES} for t in trees}
        for i in range(repeat):
            # ABBA: each tree runs first as often as second, so a load that drifts favours neither.
            for label, tree in (list(trees.items()) if i % 2 == 0 else list(trees.items())[::-1]):
                out = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--rows", str(rows), "--databases", db,
                     "--commit-only"], env={**os.environ, "PYTHONPATH": str(tree)}, check=True,
                    capture_output=True, text=True).stdout
                stages = json.loads(out.strip().splitlines()[-1])
                for stage, seconds in stages.items():
                    times[label][stage].append(seconds)
                print(f"  {db} run {i + 1} {label:<9}: " + ", ".join(f"{s} {stages[s]:.2f} s" for s in STAGES),
                      flush=True)
        for stage in STAGES:
            base = statistics.median(times["baseline"][stage])
            mine = statistics.median(times["this tree"][stage])
            verdict = "PASS" if mine <= base * 1.10 else "FAIL"
            what = f"{stage.replace('_cpu', '')} commit {'server CPU' if stage.endswith('_cpu') else 'wall time'}"
            print(f"{db:<9} {what} of {rows} rows: baseline {ref} {base:.2f} s, this tree {mine:.2f} s "
                  f"(medians of {repeat}, run alternately); ratio {mine / base:.3f} (target <= 1.10) {verdict}",
                  flush=True)


def plain_insert(database_url: str, path: Path) -> float:
    """The same rows inserted as plainly as SQLAlchemy allows: one executemany in one transaction."""
    frame = pl.read_csv(path, infer_schema=False)
    engine = sa.create_engine(database_url)
    table = sa.Table(f"bench_plain_{uuid.uuid4().hex[:6]}", sa.MetaData(),
                     sa.Column("id", sa.Integer, primary_key=True), sa.Column("domain", sa.String(64)),
                     sa.Column("data", sa.JSON))
    table.create(engine)
    try:
        t0 = time.perf_counter()
        docs = [{"domain": "client", "data": {k: v for k, v in d.items() if v is not None}}
                for d in frame.to_dicts()]
        with engine.begin() as conn:
            conn.execute(table.insert(), docs)
        elapsed = time.perf_counter() - t0
    finally:
        table.drop(engine)
        engine.dispose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--baseline", metavar="REF", help="compare the commit with the code of this git ref")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tree with --baseline (medians)")
    parser.add_argument("--commit-only", action="store_true", help=argparse.SUPPRESS)  # one --baseline run
    args = parser.parse_args()
    databases = args.databases.split(",")
    with tempfile.TemporaryDirectory(prefix="bench-commit-") as tmp:
        folder = Path(tmp)
        path = rows_file(args.rows, folder)
        if args.commit_only:
            url, schema = (f"sqlite:///{folder / 'bench.sqlite'}", None) if databases[0] == "sqlite" else pg_schema_url()
            try:
                print(json.dumps(commit_stages(url, path, folder / "server")))
            finally:
                if schema:
                    drop_schema(schema)
            return
        print(f"{args.rows} client rows, {path.stat().st_size / 1e6:.1f} MB CSV")
        if args.baseline:
            compare(args.baseline, args.rows, databases, args.repeat, folder)
            return
        for db in databases:
            schema = None
            if db == "sqlite":
                url = f"sqlite:///{folder / 'bench.sqlite'}"
            else:
                url, schema = pg_schema_url()
            try:
                stages = end_to_end(url, path, folder / db)
                plain = plain_insert(url, path)
            finally:
                if schema:
                    drop_schema(schema)
            detail = ", ".join(f"{k} {stages[k]:.2f} s" for k in ("read", "upload", "validate", "commit"))
            print(f"{db:<9} end to end {stages['total']:6.2f} s ({detail}); plain bulk insert {plain:5.2f} s; "
                  f"ratio {stages['total'] / plain:4.1f}x; suggest on 2,000 values over HTTP: "
                  f"p50 {stages['suggest_p50_ms']:.1f} ms, p95 {stages['suggest_p95_ms']:.1f} ms")


if __name__ == "__main__":
    main()
