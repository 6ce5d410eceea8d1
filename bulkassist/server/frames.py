"""Polars frames stored in the database as Parquet blobs (reports are columnar end to end)."""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session


def to_blob(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf, compression="lz4", statistics=False)
    return buf.getvalue()


def from_blob(blob: bytes) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(blob))


def store_blobs(session: Session, model: Any, key: int, blobs: dict[str, bytes]) -> None:
    """Store `blobs` (column -> bytes) as the row of `model` whose integer primary key is `key`, replacing it.

    On SQLite the row is inserted with zero-filled blobs of their sizes, and each blob is then written into
    its place (incremental blob I/O: the key is the table's rowid): a blob bound to a statement is copied by
    SQLite, and copied again into the row's record, which cost a million-row report (some 80 MB of blobs)
    150 MB more memory for the moment it was written."""
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
