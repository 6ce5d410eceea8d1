"""Start a real import server (uvicorn) in a subprocess: for tests, notebooks, the dashboard and benches.

    server = start_server_process()            # SQLite in a temporary folder, demo data
    client = bulkassist.Client(server.url, server.tokens["importer"])
    ...
    server.stop()

The database is migrated and seeded in this process first, so the tokens of
the demo users (`admin`, `importer`, `viewer`, `other_org`, `unlicensed`,
`limited`) are known (with `passwords=True`, their dashboard passwords too);
then `python -m bulkassist.server` serves it on 127.0.0.1 and a free port. On PostgreSQL a `bulkassist worker`
process runs the jobs (commits, undos, webhook deliveries) beside it. `stop()` ends the processes by their PIDs;
`kill()` sends SIGKILL (what the crash test does).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bulkassist.errors import ServerUnreachable
from bulkassist.server.db import make_engine, migrate, sessions
from bulkassist.server.demo import demo_passwords, seed_demo


@dataclass
class RunningServer:
    url: str
    pid: int
    database_url: str
    tokens: dict[str, str]
    data_dir: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)
    passwords: dict[str, str] = field(default_factory=dict, repr=False)  # demo user -> password (passwords=True)
    workers: list[subprocess.Popen] = field(default_factory=list, repr=False)  # `bulkassist worker`s (PostgreSQL)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 10) -> None:
        """Terminate the server and its workers (SIGTERM, then SIGKILL after `timeout` seconds)."""
        for process in (self.process, *self.workers):
            stop_process(process, timeout)

    def kill(self) -> None:
        """SIGKILL the server and its workers: they die at once, in the middle of whatever they were doing."""
        for process in (self.process, *self.workers):
            kill_process(process)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def stop_process(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM `process` (by its PID), then SIGKILL after `timeout` seconds."""
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        kill_process(process)


def kill_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)


def start_worker_process(database_url: str, log_path: str | os.PathLike, *, env: dict[str, str] | None = None,
                         concurrency: int = 2, log_level: str = "warning") -> subprocess.Popen:
    """A `bulkassist worker` process running the jobs of `database_url` (PostgreSQL), logging to `log_path`."""
    command = [sys.executable, "-m", "bulkassist", "worker", "--database-url", database_url, "--concurrency",
               str(concurrency), "--log-level", log_level]
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
                                start_new_session=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_database(database_url: str, *, demo: bool = True, passwords: bool = False
                     ) -> tuple[dict[str, str], dict[str, str]]:
    """Migrate the database and (demo) seed it; returns a token per demo user and, with `passwords`, a fresh
    password per demo user (argon2 hashing takes a moment per user, so only when asked)."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        if not demo:
            return {}, {}
        with sessions(engine).begin() as session:
            return seed_demo(session), demo_passwords(session) if passwords else {}
    finally:
        engine.dispose()


def start_server_process(database_url: str | None = None, *, port: int | None = None, demo: bool = True,
                         data_dir: str | os.PathLike | None = None, env: dict[str, str] | None = None,
                         workers: int = 1, wait: float = 60, passwords: bool = False,
                         log_level: str = "warning", job_workers: int | None = None) -> RunningServer:
    """A real uvicorn server on 127.0.0.1 in a subprocess, answering when this returns.

    Its log (uvicorn's, at `log_level`; "info" adds the access log) goes to `RunningServer.log_path`, and
    its job workers' to `worker-<port>.log` beside it.

    `workers` > 1 runs several uvicorn worker processes on the same database (PostgreSQL).
    `job_workers`: `bulkassist worker` processes to start (default: one on PostgreSQL, none on SQLite,
    whose server runs its jobs itself).
    """
    folder = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="bulkassist-server-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{folder / 'bulkassist.sqlite'}"
    tokens, demo_users = prepare_database(url, demo=demo, passwords=passwords)
    port = port or free_port()
    log_path = folder / f"server-{port}.log"
    command = [sys.executable, "-m", "bulkassist.server", "--database-url", url, "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--log-level", log_level]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, start_new_session=True)
    if job_workers is None:
        job_workers = 0 if url.startswith("sqlite") else 1
    jobs = [start_worker_process(url, folder / f"worker-{port}.log", env=env) for _ in range(job_workers)]
    server = RunningServer(url=f"http://127.0.0.1:{port}", pid=process.pid, database_url=url, tokens=tokens,
                           data_dir=folder, log_path=log_path, process=process, passwords=demo_users,
                           workers=jobs)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnreachable(f"the server exited with code {process.returncode}:\n{server.log()[-3000:]}")
        try:
            if requests.get(f"{server.url}/api/v1/health", timeout=2).ok:
                return server
        except requests.RequestException:
            pass
        time.sleep(0.1)
    server.kill()
    raise ServerUnreachable(f"the server did not answer within {wait} s:\n{server.log()[-3000:]}")
