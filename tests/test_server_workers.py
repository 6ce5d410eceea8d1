"""Stateless workers: several uvicorn processes share one PostgreSQL; `bulkassist demo` prints what to use."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from bulkassist.client import Client
from bulkassist.server.launch import free_port, start_server_process
from tests.test_server_lifecycle import CLIENT_HEADER, csv_bytes


@pytest.mark.postgres
@pytest.mark.slow
def test_two_worker_processes_share_one_postgresql(pg_database_url, tmp_path):
    server = start_server_process(pg_database_url, data_dir=tmp_path, workers=2)
    try:
        workers: set[str] = set()
        deadline = time.monotonic() + 30  # the second process may still be starting
        while len(workers) < 2 and time.monotonic() < deadline:
            workers.add(requests.get(f"{server.url}/api/v1/health", timeout=10).json()["worker"])
        client = Client(server.url, server.tokens["importer"])
        imports = [client.start_import(csv_bytes(CLIENT_HEADER, [["", f"W{i}", f"Worker{n}", "", "", ""]
                                                                  for i in range(300)]),
                                       "client", "add", name=f"w{n}.csv") for n in range(4)]
        for imp in imports:
            imp.commit(wait=False)
        finals = [imp.wait(timeout=60) for imp in imports]
    finally:
        server.stop()
    assert len(workers) == 2  # requests were answered by both processes
    assert [f["status"] for f in finals] == ["Committed"] * 4
    assert [f["committed"]["inserted"] for f in finals] == [300] * 4


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_demo_server_only_prints_the_url_and_tokens_and_stops_its_server(tmp_path, stop):
    port = free_port()
    process = subprocess.Popen(  # SIGINT as a terminal leaves it (the test runner's worker may ignore it)
        [sys.executable, "-m", "bulkassist", "demo", "--server-only", "--port", str(port), "--database-url",
         f"sqlite:///{tmp_path / 'demo.sqlite'}"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        lines = []
        while not any(line.strip().startswith("limited") for line in lines):
            line = process.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        assert f"http://127.0.0.1:{port}" in lines[0]
        token = next(line.split()[-1] for line in lines if line.strip().startswith("importer"))  # name, password, token
        deadline = time.monotonic() + 30
        while True:
            try:
                me = Client(f"http://127.0.0.1:{port}", token, retries=0).me()
                break
            except Exception:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert me["organisation"] == "Demo Organisation" and me["user"] == "importer"
    finally:
        os.kill(process.pid, stop)  # Ctrl+C: a blocking wait for the server never saw it, and the demo ran on
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGTERM)  # leave nothing running, then fail
            process.wait(20)
            raise
    with pytest.raises(requests.ConnectionError):  # the demo stopped the server it started
        requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
