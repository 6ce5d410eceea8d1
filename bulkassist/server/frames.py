"""Polars frames stored in the database as Parquet blobs (reports are columnar end to end)."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session


def to_blob(frame: pl.DataFrame, *, small: bool = False) -> bytes:
    """`frame` as Parquet; `small`: compressed by zstd (level 1), not lz4, for a blob a validation writes
    once and a commit reads once: some 45% smaller for text (a million-row report's cells and normalized
    values, 74 MB in lz4, are 42 MB), as fast to write, a little slower to read. SQLite holds a row's blobs
    twice over while it writes the row, so that is 64 MB less at the peak of a validation too."""
    buf = io.BytesIO()
    if small:
        frame.write_parquet(buf, compression="zstd", compression_level=1, statistics=False)
    else:
        frame.write_parquet(buf, compression="lz4", statistics=False)
    return buf.getvalue()


def from_blob(blob: bytes) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(blob))


def store_blobs(session: Session, model: Any, key: int, blobs: dict[str, bytes]) -> None:
    """Store `blobs` (column -> bytes) as the row of `model` whose integer primary key is `key`, replacing it.

    On SQLite the row is inserted with zero-filled blobs of their sizes, and each blob is then written into
    its place (incremental blob I/O: the key is the table's rowid). A blob bound to a statement is copied by
    SQLite, and the copy stays bound to the cached statement once it has run: a million-row report's blobs
    (tens of MB) stayed in the server's memory until the next validation."""
    raw: Any = session.connection().connection.driver_connection
    if session.get_bind().dialect.name != "sqlite" or not hasattr(raw, "blobopen"):  # blobopen: Python 3.11
        session.merge(model(**{_key_name(model): key}, **blobs))
        return
    column = getattr(model, _key_name(model))
    session.execute(sa.delete(model).where(column == key))  # an ORM delete: a loaded row leaves the session too
    session.execute(sa.insert(model).values({column: key, **{c: sa.func.zeroblob(len(b)) for c, b in blobs.items()}}))
    for name, blob in blobs.items():
        with raw.blobopen(model.__tablename__, name, key) as out:
            out.write(blob)


def _key_name(model: Any) -> str:
    (key,) = sa.inspect(model).primary_key
    return key.key
