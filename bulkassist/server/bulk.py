"""Fast bulk writes for the commit: IDs allocated up front, rows sent with COPY (PostgreSQL) or
executemany (SQLite), so 100k rows do not cost 100k round trips or a RETURNING per row.

Both run inside the caller's transaction (and savepoint), so they keep the commit's
all-or-nothing-per-chunk guarantee.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.orm import Session


def allocate_ids(session: Session, table: sa.Table, count: int) -> list[int]:
    """`count` new primary keys of `table`, reserved in this transaction."""
    if count == 0:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return list(session.execute(
            sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": count}).scalars())
    # SQLite: writers are serialised (BEGIN IMMEDIATE), so the sequence cannot move under us; inserting
    # explicit IDs advances sqlite_sequence as AUTOINCREMENT requires.
    start = session.execute(sa.text("SELECT max(seq) FROM sqlite_sequence WHERE name = :t"),
                            {"t": table.name}).scalar()
    highest = session.execute(sa.select(sa.func.max(table.c.id))).scalar()
    first = max(start or 0, highest or 0) + 1
    return list(range(first, first + count))


def driver_connection(session: Session) -> Any:
    """The DBAPI driver's own connection under the session's (psycopg's for COPY, sqlite3's for executemany):
    the bulk paths skip SQLAlchemy's per-row work."""
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("the database connection is closed")
    return raw


def insert_rows(session: Session, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (tuples in `columns` order; dicts/lists go to JSON columns as JSON)."""
    if not rows:
        return
    json_cols = {i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.JSON)}
    connection = session.connection()
    raw = driver_connection(session)
    names = ", ".join(f'"{c}"' for c in columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([json.dumps(v) if i in json_cols and v is not None else v
                                for i, v in enumerate(row)])
        return
    # SQLite: the driver's executemany, with values stored as SQLAlchemy stores them (JSON text,
    # datetimes as "YYYY-MM-DD HH:MM:SS.ffffff"), skipping SQLAlchemy's per-row parameter processing.
    time_cols = {i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.DateTime)}
    marks = ", ".join("?" * len(columns))
    times: dict[Any, str] = {}  # a chunk shares one timestamp: format it once

    def stored(i: int, v: Any) -> Any:
        if v is None:
            return None
        if i in json_cols:
            return json.dumps(v)
        if i in time_cols:
            if v not in times:
                times[v] = v.strftime("%Y-%m-%d %H:%M:%S.%f")
            return times[v]
        return v

    convert = bool(json_cols or time_cols)
    cursor = raw.cursor()
    try:
        cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', (
            [stored(i, v) for i, v in enumerate(row)] if convert else row for row in rows))
    finally:
        cursor.close()


def json_text(value: Any) -> str:
    """`value` as JSON text, with orjson (several times faster than `json.dumps`; an update commit
    encodes every record it writes); what orjson refuses (an integer over 64 bits) with `json`."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def update_records(session: Session, table: sa.Table, changes: Sequence[tuple[int, dict[str, Any]]],
                   at: Any) -> None:
    """Set `data` (stored as JSON) and `updated_at` = `at` of the rows of `table` with these IDs:
    `changes` are (id, data) pairs.

    SQLite: one driver executemany with the values stored as SQLAlchemy stores them, skipping the ORM's
    bulk update (which collects, processes and compiles parameters per row: most of an update commit's
    time, more than the statement itself). PostgreSQL: an executemany, which
    psycopg pipelines (as fast as one UPDATE ... FROM unnest, whose plan scans the records per chunk).
    """
    if not changes:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        session.execute(sa.update(table).where(table.c.id == sa.bindparam("_id")).values(
            data=sa.bindparam("_data", type_=table.c.data.type), updated_at=sa.bindparam("_at", type_=sa.DateTime())),
            [{"_id": i, "_data": d, "_at": at} for i, d in changes])
        return
    stamp = at.strftime("%Y-%m-%d %H:%M:%S.%f")
    cursor = driver_connection(session).cursor()
    try:
        cursor.executemany(f'UPDATE "{table.name}" SET data = ?, updated_at = ? WHERE id = ?',
                           ((json_text(d), stamp, i) for i, d in changes))
    finally:
        cursor.close()
