"""Fast bulk writes for the commit: IDs allocated up front, a chunk's rows sent as one prepared buffer
with COPY (PostgreSQL) or one executemany (SQLite), so 100k rows cost neither 100k round trips, a
RETURNING per row, nor Python work per row: the buffer (COPY's binary format, the JSON text of the records'
fields) is built by polars and Arrow over whole columns.

Both run inside the caller's transaction (and savepoint), so they keep the commit's
all-or-nothing-per-chunk guarantee.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy.orm import Session

from bulkassist.server.jsontext import json_text

# Timestamps as SQLAlchemy writes them to SQLite.
_STAMP = "%Y-%m-%d %H:%M:%S%.6f"
# Rows per piece of a COPY: a few MB of records, so the first piece reaches the server early.
_COPY_SLICE = 8192
# COPY's binary format: a signature and two empty words, then per row its field count (16 bits) and per
# field its length in bytes (32 bits, -1 for a null) and its bytes, all big-endian; a trailer of -1.
_SIGNATURE, _TRAILER = b"PGCOPY\n\xff\r\n\x00" + bytes(8), b"\xff\xff"
_NULL_FIELD, _JOINED = b"\xff\xff\xff\xff", b""
# Arrow's memory from the system allocator: its default (mimalloc) keeps what a chunk freed, about 50 MB
# more of a worker's peak. No Arrow value is made at import: the first one costs a process about 36 MB.
_POOL = pa.system_memory_pool()
# A PostgreSQL timestamp is microseconds since 2000-01-01.
_EPOCH_2000_US = 946_684_800_000_000
# A column type's fixed-width binary value: (the polars type its values are cast to, the big-endian numpy type
# sent); text, JSON and bytes are sent as their bytes.
_FIXED = {"int8": (pl.Int64, ">i8"), "int4": (pl.Int32, ">i4"), "float8": (pl.Float64, ">f8"),
          "bool": (pl.UInt8, "u1"), "timestamp": (pl.Int64, ">i8")}


def allocate_ids(session: Session, table: sa.Table, count: int) -> pl.Series:
    """`count` new primary keys of `table`, reserved in this transaction."""
    if count == 0:
        return pl.Series("id", [], pl.Int64)
    if session.get_bind().dialect.name == "postgresql":
        # The sequence looked up once: per nextval the lookup costs several times the nextval.
        sequence = session.execute(sa.text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
        return pl.Series("id", session.execute(
            sa.text("SELECT array_agg(nextval(CAST(:s AS regclass))) FROM generate_series(1, :n)"),
            {"s": sequence, "n": count}).scalar(), pl.Int64)
    # SQLite: writers are serialised (BEGIN IMMEDIATE), so the sequence cannot move under us; inserting
    # explicit IDs advances sqlite_sequence as AUTOINCREMENT requires.
    start = session.execute(sa.text("SELECT max(seq) FROM sqlite_sequence WHERE name = :t"),
                            {"t": table.name}).scalar()
    highest = session.execute(sa.select(sa.func.max(table.c.id))).scalar()
    first = max(start or 0, highest or 0) + 1
    return pl.int_range(first, first + count, dtype=pl.Int64, eager=True).alias("id")


def insert_frame(session: Session, table: sa.Table, frame: pl.DataFrame) -> None:
    """Insert the rows of `frame`, whose columns are named as `table`'s (JSON columns hold JSON text).

    PostgreSQL: one COPY of the frame in COPY's binary format (`copy_binary`). SQLite: one driver executemany,
    with timestamps stored as SQLAlchemy stores them, skipping SQLAlchemy's per-row parameter processing.
    """
    if frame.height == 0:
        return
    connection = session.connection()
    raw = driver_connection(session)
    names = ", ".join(f'"{c}"' for c in frame.columns)
    if connection.dialect.name == "postgresql":
        kinds = [binary_kind(table.c[c].type) for c in frame.columns]
        # A big frame a slice at a time through a writer thread: the server parses slice n while Arrow
        # builds n + 1 (a small one, the outbox's, is not worth the thread).
        with raw.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN (FORMAT binary)', writer=(
                QueuedLibpqWriter(cursor) if frame.height > _COPY_SLICE else None)) as copy:
            copy.write(_SIGNATURE)
            for piece in frame.iter_slices(_COPY_SLICE):
                copy.write(copy_binary(piece, kinds))
            copy.write(_TRAILER)
        return
    stored = frame.with_columns(pl.col(pl.Datetime).dt.strftime(_STAMP))
    cursor = raw.cursor()
    try:
        cursor.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * frame.width)})',
                           stored.rows())
    finally:
        cursor.close()


def binary_kind(kind: sa.types.TypeEngine) -> str:
    """How COPY's binary format sends a value of this column type: a `_FIXED` key, or "bytes"."""
    if isinstance(kind, sa.TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, sa.BigInteger):
        return "int8"
    if isinstance(kind, sa.Integer) and not isinstance(kind, sa.SmallInteger):
        return "int4"
    if isinstance(kind, sa.Float) and kind.precision is None:  # FLOAT: double precision
        return "float8"
    if isinstance(kind, sa.Boolean):
        return "bool"
    if isinstance(kind, sa.DateTime) and not kind.timezone:
        return "timestamp"
    if isinstance(kind, sa.String | sa.JSON | sa.LargeBinary):  # json's binary form is its text
        return "bytes"
    raise TypeError(f"no binary COPY for a column of type {kind!r}")


def copy_binary(frame: pl.DataFrame, kinds: Sequence[str]) -> memoryview:
    """The rows of `frame` in COPY's binary format (without its signature and trailer), a column's values
    sent as `kinds` says (`binary_kind`): each column's fields (length and bytes) built over the whole
    column, the rows joined by Arrow. Nothing is escaped, so no value can be read back changed."""
    count = _scalar(struct.pack(">h", frame.width))
    rows = pc.binary_join_element_wise(count, *[_fields(frame[c], k) for c, k in zip(frame.columns, kinds,
                                                                                        strict=True)], _scalar(_JOINED),
                                       memory_pool=_POOL)
    offsets = np.frombuffer(rows.buffers()[1], np.int64, len(rows) + 1, rows.offset * 8)
    return memoryview(rows.buffers()[2])[offsets[0]:offsets[-1]]


def _fields(column: pl.Series, kind: str) -> pa.Array:
    """Per value of `column`, its field in COPY's binary format: its length, then its bytes."""
    n = len(column)
    if kind == "bytes":
        values = column if column.dtype == pl.Binary else column.cast(pl.String).cast(pl.Binary)
        lengths = values.bin.size().fill_null(0).to_numpy().astype(">i4")
        prefixes = pa.FixedSizeBinaryArray.from_buffers(pa.binary(4), n, [None, pa.py_buffer(lengths.tobytes())])
        fields = pc.binary_join_element_wise(_large(prefixes), _large(values.to_arrow()), _scalar(_JOINED),
                                             memory_pool=_POOL)
    else:
        dtype, sent = _FIXED[kind]
        width = np.dtype(sent).itemsize
        numbers = column.dt.epoch("us") - _EPOCH_2000_US if kind == "timestamp" else column.cast(dtype, strict=True)
        block = np.empty((n, 4 + width), np.uint8)
        block[:, :4] = np.frombuffer(struct.pack(">i", width), np.uint8)
        block[:, 4:] = numbers.fill_null(0).to_numpy().astype(sent).view(np.uint8).reshape(n, width)
        fields = _large(pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 + width), n, [None, pa.py_buffer(block)]))
    if not column.null_count():
        return fields
    return pc.if_else(column.is_null().to_arrow(), _scalar(_NULL_FIELD), fields, memory_pool=_POOL)


def _scalar(value: bytes) -> pa.Scalar:
    return pa.scalar(value, pa.large_binary(), memory_pool=_POOL)


def _large(array: pa.Array) -> pa.Array:
    return array.cast(pa.large_binary(), memory_pool=_POOL)


def driver_connection(session: Session) -> Any:
    """The DBAPI driver's own connection under the session's (psycopg's for COPY, sqlite3's for executemany):
    the bulk paths skip SQLAlchemy's per-row work."""
    raw = session.connection().connection.driver_connection
    if raw is None:
        raise RuntimeError("the database connection is closed")
    return raw


def insert_rows(session: Session, table: sa.Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Insert a few rows given as tuples in `columns` order (dicts/lists go to JSON columns as JSON): the
    outbox's events and deliveries. A commit's chunks come as frames (`insert_frame`)."""
    json_cols = {i for i, c in enumerate(columns) if isinstance(table.c[c].type, sa.JSON)}
    values = [[json_text(v) if i in json_cols and v is not None else v for i, v in enumerate(row)] for row in rows]
    insert_frame(session, table, pl.DataFrame(values, schema={c: _dtype(table.c[c].type) for c in columns},
                                              orient="row"))


def _dtype(kind: sa.types.TypeEngine) -> pl.DataType:
    """The polars type a value of this column type travels in (JSON as its text)."""
    if isinstance(kind, sa.Boolean):
        return pl.Boolean()
    if isinstance(kind, sa.Integer):
        return pl.Int64()
    if isinstance(kind, sa.Float):
        return pl.Float64()
    if isinstance(kind, sa.DateTime):
        return pl.Datetime("us")
    return pl.String()


def json_objects(frame: pl.DataFrame, always: dict[str, Any] | None = None) -> pl.Series:
    """Per row of `frame`, the JSON text of an object holding its non-null values (in column order), then
    `always`'s items (the same on every row). Built by polars a column at a time: each column encoded as
    `{"name":value}` (polars escapes the text), its braces stripped, the pieces joined skipping nulls."""
    if not frame.width:
        return pl.repeat(json_text(always or {}), frame.height, dtype=pl.String, eager=True).alias("data")
    pieces: list[pl.Expr] = [pl.when(pl.col(c).is_not_null()).then(
        pl.struct(c).struct.json_encode().str.strip_prefix("{").str.strip_suffix("}")) for c in frame.columns]
    if always:
        pieces.append(pl.lit(json_text(always)[1:-1]))
    body = pl.concat_str(pieces, separator=",", ignore_nulls=True)
    return frame.select(pl.concat_str(pl.lit("{"), body, pl.lit("}")).alias("data")).to_series()


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
