"""Polars frames stored in the database as Parquet blobs (reports are columnar end to end)."""

from __future__ import annotations

import io

import polars as pl


def to_blob(frame: pl.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.write_parquet(buf, compression="lz4", statistics=False)
    return buf.getvalue()


def from_blob(blob: bytes) -> pl.DataFrame:
    return pl.read_parquet(io.BytesIO(blob))
