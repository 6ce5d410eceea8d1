"""Bench: a team's import, end to end: 1M client rows uploaded, validated and committed through a real
import server on PostgreSQL and on SQLite, against PostgreSQL's own `COPY` of the same rows in the same
run, while another client reads the import history.

    python bench/team.py                       # 1M rows, PostgreSQL and SQLite, medians of 3
    python bench/team.py --rows 100000 --repeat 3 --databases postgres

Per run and database: a fresh server (`start_server_process`, a uvicorn subprocess) on a fresh database;
the rows read from a CSV (every Client ID blank: every row an Insert), uploaded, validated, committed.
Meanwhile a second process, signed in as another user of the organisation, GETs the history
(`GET /api/v1/imports`) in a loop; its latencies over the whole import give the p95 and the maximum.
The server's peak RSS is the kernel's high-water mark of its process (VmHWM). The baseline is
`COPY ... FROM STDIN (FORMAT csv)` of the same CSV file into a plain table of text columns.

Targets (issue 11): PostgreSQL end to end <= 25 s and commit <= 4x the COPY; SQLite end to end <= 30 s;
history GET during the import p95 <= 100 ms, max <= 500 ms; API process RSS <= 400 MB, a worker's <= 1 GB.
CPU seconds of the API process and the workers are printed beside the wall times: the machine may be shared.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import requests

sys.path.insert(0, str(Path(__file__).parent))
from _data import PG_URL, client_frame, drop_schema, pg_schema_url  # noqa: E402

from bulkassist.client import Client, _read_rows  # noqa: E402
from bulkassist.server.launch import RunningServer, start_server_process  # noqa: E402

TARGETS = {"postgres": 25.0, "sqlite": 30.0}  # end-to-end seconds
COPY_RATIO, P95_MS, MAX_MS, RSS_MB, WORKER_RSS_MB = 4.0, 100.0, 500.0, 400.0, 1024.0


def rows_file(rows: int, folder: Path) -> Path:
    """A CSV of `rows` valid new clients (blank Client ID: every row an Insert)."""
    frame = client_frame(rows, bad_share=0.0).with_columns(pl.lit(None, pl.String).alias("Client ID"))
    path = folder / f"clients_{rows}.csv"
    frame.write_csv(path)
    return path


def poll_history(url: str, token: str, stop, out) -> None:
    """Another client: GET the history until `stop` is set; put the latencies (ms) on `out`."""
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    timings = []
    while not stop.is_set():
        t0 = time.perf_counter()
        http.get(f"{url}/api/v1/imports", params={"page_size": 50}, timeout=60).raise_for_status()
        timings.append((time.perf_counter() - t0) * 1000)
        stop.wait(0.05)
    out.put(timings)


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (the kernel's VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used so far (/proc/PID/stat): on a machine shared with
    other work, what the import cost, apart from the time it waited for a core."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def import_run(server: RunningServer, path: Path) -> dict[str, float]:
    """Seconds per stage of one import of the file, the history latencies meanwhile, the server's peak RSS,
    the CPU seconds of the API process and of the job workers (PostgreSQL) over the import."""
    context = multiprocessing.get_context("spawn")
    stop, out = context.Event(), context.Queue()
    poller = context.Process(target=poll_history, args=(server.url, server.tokens["admin"], stop, out))
    poller.start()
    time.sleep(1)  # the poller is answering before the import starts
    client = Client(server.url, server.tokens["importer"], timeout=600)
    cpu0 = {p.pid: cpu_seconds(p.pid) for p in (server.process, *server.workers)}
    t0 = time.perf_counter()
    headers, rows, name, typed = _read_rows(str(path), name=None, sheet=None, separator=None)
    imp = client.create_import("client", "add", file_name=name)
    imp.upload(headers, rows, typed=typed)
    t1 = time.perf_counter()
    summary = imp.validate()
    t2 = time.perf_counter()
    final = imp.commit(poll=0.05, timeout=900)
    t3 = time.perf_counter()
    cpu = {pid: cpu_seconds(pid) - before for pid, before in cpu0.items()}
    stop.set()
    timings = sorted(out.get(timeout=120))
    poller.join()
    assert summary["valid"] == rows.height, summary
    assert final["status"] == "Committed" and final["committed"]["inserted"] == rows.height, final
    return {"upload": t1 - t0, "validate": t2 - t1, "commit": t3 - t2, "total": t3 - t0,
            "get_p95_ms": timings[int(len(timings) * 0.95)], "get_max_ms": timings[-1], "gets": len(timings),
            "rss_mb": peak_rss_mb(server.pid), "api_cpu": cpu[server.pid],
            "worker_cpu": sum(v for pid, v in cpu.items() if pid != server.pid),
            "worker_rss_mb": max([peak_rss_mb(w.pid) for w in server.workers], default=0.0)}


def copy_baseline(path: Path) -> float:
    """Seconds for PostgreSQL to COPY the CSV into a plain table of text columns (a fresh schema)."""
    import psycopg

    columns = path.open().readline().strip().split(",")
    url, schema = pg_schema_url()
    try:
        with psycopg.connect(PG_URL.replace("+psycopg", ""), options=f"-csearch_path={schema}") as conn:
            conn.execute("CREATE TABLE plain (" + ", ".join(f'"{c}" text' for c in columns) + ")")
            conn.commit()
            t0 = time.perf_counter()
            with conn.cursor() as cursor, cursor.copy("COPY plain FROM STDIN (FORMAT csv, HEADER)") as copy:
                copy.write(path.read_bytes())
            conn.commit()
            return time.perf_counter() - t0
    finally:
        drop_schema(schema)


def one_run(database: str, path: Path, folder: Path) -> dict[str, float]:
    schema = None
    if database == "sqlite":
        url = f"sqlite:///{folder / 'bench.sqlite'}"
    else:
        url, schema = pg_schema_url()
    server = start_server_process(url, data_dir=folder)
    try:
        return import_run(server, path)
    finally:
        server.stop()
        if schema:
            drop_schema(schema)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per database (medians)")
    parser.add_argument("--databases", default="postgres,sqlite")
    args = parser.parse_args()
    databases = args.databases.split(",")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-team-") as tmp:
        folder = Path(tmp)
        path = rows_file(args.rows, folder)
        print(f"{args.rows} client rows, {path.stat().st_size / 1e6:.1f} MB CSV; medians of {args.repeat} runs",
              flush=True)
        runs: dict[str, list[dict[str, float]]] = {db: [] for db in databases}
        copies: list[float] = []
        for i in range(args.repeat):
            for db in databases:
                stages = one_run(db, path, folder / f"{db}-{i}")
                runs[db].append(stages)
                print(f"  run {i + 1} {db:<8}: " + ", ".join(
                    f"{k} {v:.2f}" for k, v in stages.items()), flush=True)
            if "postgres" in databases:
                copies.append(copy_baseline(path))
                print(f"  run {i + 1} COPY    : {copies[-1]:.2f} s", flush=True)
        copy = statistics.median(copies) if copies else None
        for db in databases:
            median = {k: statistics.median(r[k] for r in runs[db]) for k in runs[db][0]}
            line = (f"{db:<8} end to end {median['total']:6.2f} s (upload {median['upload']:.2f}, validate "
                    f"{median['validate']:.2f}, commit {median['commit']:.2f}); target <= {TARGETS[db]:.0f} s "
                    f"{verdict(median['total'] <= TARGETS[db])}")
            if db == "postgres" and copy:
                ratio = median["commit"] / copy
                line += (f"; COPY of the CSV {copy:.2f} s, commit/COPY {ratio:.1f}x (target <= {COPY_RATIO:.0f}x) "
                         f"{verdict(ratio <= COPY_RATIO)}")
            print(line)
            workers = (f"workers {median['worker_cpu']:.1f}; worker peak RSS {median['worker_rss_mb']:.0f} MB (target "
                       f"<= {WORKER_RSS_MB:.0f}) {verdict(median['worker_rss_mb'] <= WORKER_RSS_MB)}"
                       if db == "postgres" else "the jobs run in the API process")
            print(f"{'':<8} CPU seconds over the import (wall {median['total']:.1f}): API process "
                  f"{median['api_cpu']:.1f}, {workers}")
            rss = f"{median['rss_mb']:.0f} MB (target <= {RSS_MB:.0f}) {verdict(median['rss_mb'] <= RSS_MB)}"
            if db != "postgres":  # the embedded server's one process is an API process and a worker at once
                rss += (f", as the process that runs the jobs (a worker's target <= {WORKER_RSS_MB:.0f}) "
                        f"{verdict(median['rss_mb'] <= WORKER_RSS_MB)}")
            print(f"{'':<8} history GET during the import: p95 {median['get_p95_ms']:.0f} ms (target <= "
                  f"{P95_MS:.0f}) {verdict(median['get_p95_ms'] <= P95_MS)}, max {median['get_max_ms']:.0f} ms "
                  f"(target <= {MAX_MS:.0f}) {verdict(median['get_max_ms'] <= MAX_MS)}; API process peak RSS {rss}")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
