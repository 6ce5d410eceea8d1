"""A commit's per-row outcomes: how a chunk's outcomes are stored, and read back as one frame.

Most rows of a big insert say only "Success, Insert, record N". Stored one row each they cost the commit
about a fifth of its time (a heap row and an index entry per row, on either database), so a chunk's
outcomes of that kind go into one `insert_outcomes` row holding a Parquet blob of (row, record_id).
Every other outcome (failed, skipped, updated, or an insert with a message, a field or an invoice) is a
`row_results` row, as before. Both are written in the chunk's transaction, so a row is written with its
outcome or not at all, and "valid rows without an outcome" stays the commit's resume rule.

A retry re-attempts only failed rows, which are never in a blob, so the blobs never change. Callers see
one OUTCOME_SCHEMA frame (`read`) and never the split.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bulkassist.server.bulk import insert_frame
from bulkassist.server.domains import OUTCOME_SCHEMA
from bulkassist.server.frames import from_blob, to_blob
from bulkassist.server.models import InsertOutcomes, RowResult
from bulkassist.status import RowAction, RowStatus

# An outcome that says nothing but the record it created.
_PLAIN_INSERT = ((pl.col("status") == RowStatus.SUCCESS) & (pl.col("action") == RowAction.INSERT)
                 & pl.col("record_id").is_not_null() & pl.col("invoice_id").is_null() & pl.col("field").is_null()
                 & (pl.col("message").fill_null("") == ""))


def write(session: Session, import_id: int, result: pl.DataFrame, at: datetime) -> None:
    """Store a chunk's outcomes (OUTCOME_SCHEMA): its plain inserts as one blob, the others a row each."""
    plain = result.select(_PLAIN_INSERT.fill_null(False)).to_series()
    inserted = result.filter(plain).select("row", "record_id")
    if inserted.height:
        session.execute(sa.insert(InsertOutcomes).values(
            import_id=import_id, first_row=inserted["row"].min(), last_row=inserted["row"].max(),
            rows=inserted.height, data=to_blob(inserted), at=at))
    insert_frame(session, RowResult.__table__, result.filter(~plain).select(*OUTCOME_SCHEMA).with_columns(
        pl.col("message").fill_null(""), import_id=pl.lit(import_id, pl.Int64), at=pl.lit(at, pl.Datetime("us"))))


def read(session: Session, import_id: int, first: int | None = None, last: int | None = None) -> pl.DataFrame:
    """The outcomes of the import's rows (from `first` to `last`, or all) in OUTCOME_SCHEMA."""
    kept = sa.select(RowResult.row, RowResult.status, RowResult.action, RowResult.record_id, RowResult.invoice_id,
                     RowResult.message, RowResult.field).where(RowResult.import_id == import_id)
    blobs = sa.select(InsertOutcomes.data).where(InsertOutcomes.import_id == import_id)
    if first is not None and last is not None:
        kept = kept.where(RowResult.row.between(first, last))
        blobs = blobs.where(InsertOutcomes.first_row <= last, InsertOutcomes.last_row >= first)
    parts = [pl.DataFrame([tuple(r) for r in session.execute(kept).all()], schema=OUTCOME_SCHEMA, orient="row")]
    inserts = [from_blob(b) for b in session.scalars(blobs)]
    if inserts:
        frame = pl.concat(inserts)
        if first is not None and last is not None:
            frame = frame.filter(pl.col("row").is_between(first, last))
        parts.append(frame.select(pl.col("row").cast(pl.Int64), pl.lit(RowStatus.SUCCESS).alias("status"),
                                  pl.lit(RowAction.INSERT).alias("action"), pl.col("record_id").cast(pl.Int64),
                                  pl.lit(None, pl.Int64).alias("invoice_id"), pl.lit("").alias("message"),
                                  pl.lit(None, pl.String).alias("field")))
    return pl.concat(parts)
