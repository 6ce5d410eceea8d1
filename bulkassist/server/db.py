"""Database engine, sessions and migrations.

SQLite (a file in the user's data folder) when no URL is given, PostgreSQL
through psycopg 3 otherwise.

On SQLite (WAL mode) a session says whether it writes: `sessions(engine).begin()` (or `Session.begin()`)
opens a write transaction with `BEGIN IMMEDIATE`, so writers queue on the busy timeout instead of failing
when they upgrade a read; a session used without `begin()` only reads, with a plain (deferred) `BEGIN`
that never waits for a writer: a GET answers while a validation or a commit holds the write lock. Migrations run at start-up (`alembic upgrade
head`, programmatically); on PostgreSQL an advisory lock makes several workers
starting together migrate once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from platformdirs import user_data_dir
from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.session import SessionTransaction

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 4_242_001


def default_database_url() -> str:
    """`DATABASE_URL`, else a SQLite file in the user's data folder."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return normalise_url(url)
    folder = Path(user_data_dir("bulkassist", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'bulkassist.sqlite'}"


def normalise_url(url: str) -> str:
    """Plain `postgresql://` URLs use psycopg 3 (the driver we ship), not psycopg2."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def make_engine(url: str | None = None) -> Engine:
    url = normalise_url(url or default_database_url())
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy emits BEGIN itself (below).
    dbapi_connection.isolation_level = None
    # WAL lets the commit thread write while requests read; the busy timeout
    # makes concurrent writers wait instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=60000")
    cursor.close()


_READS = "bulkassist_reads"  # the execution option of a reading connection (a deferred BEGIN)


def _sqlite_begin(connection) -> None:
    # A writer's IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout instead
    # of one failing with SQLITE_BUSY when it upgrades a read transaction to a write. A reader's plain
    # BEGIN takes no lock: in WAL mode it reads the last committed state while a writer works.
    reads = connection.get_execution_options().get(_READS, False)
    connection.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")


class _Session(Session):
    """A session that writes once `begin()` opened its transaction, and otherwise only reads (on SQLite
    through the engine's reading connections, see the module's docstring)."""

    writes = False

    def begin(self, nested: bool = False) -> SessionTransaction:
        if not nested:
            self.writes = True
        return super().begin(nested=nested)

    def get_bind(self, *args, **kwargs) -> Engine | sa.Connection:
        bind = super().get_bind(*args, **kwargs)
        reader = self.info.get(_READS)
        return reader if reader is not None and not self.writes and bind is self.info.get("engine") else bind


def sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions of `engine`: `maker.begin()` for a transaction that writes, `maker()` for reading."""
    info = {"engine": engine}
    if engine.dialect.name == "sqlite":
        info[_READS] = engine.execution_options(**{_READS: True})
    return sessionmaker(engine, class_=_Session, expire_on_commit=False, info=info)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (`alembic upgrade head`)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def rows_changed(session: Session, statement: sa.Update) -> int:
    """Run an UPDATE and answer how many rows it changed (its cursor's rowcount: `Session.execute` is typed
    as answering any `Result`, an UPDATE's is a `CursorResult`)."""
    return cast("CursorResult[Any]", session.execute(statement)).rowcount
