"""The results file (Row Number, Status, Action, Created/Updated ID, Error Messages) and the errors file.

Built from the stored report (validation outcome of every row) and the
commit's per-row outcomes; every text cell goes through `bulkassist.io.cells`
so no cell of a downloaded file can start a formula.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from bulkassist.engine.report import (
    ERRORS_COLUMNS,
    NO_CHANGE_NOTE,
    NO_CHANGE_STATUS,
    RESULT_COLUMNS,
    errors_table,
)
from bulkassist.io.csv import csv_bytes
from bulkassist.io.xlsx import write_data
from bulkassist.server import outcomes
from bulkassist.server.lifecycle import INTENT, stored_report
from bulkassist.server.models import Import
from bulkassist.server.orgdata import builtin_domain
from bulkassist.status import VALID_ACTIONS, ImportStatus, RowAction, RowStatus

INVOICE_COLUMN = "Invoice ID"


def results_frame(session: Session, imp: Import) -> pl.DataFrame:
    """One line per data row that is not blank, in the seed's results layout."""
    normalized, issues = stored_report(session, imp)
    messages = (issues.filter(pl.col("row").is_not_null())
                .sort("row", "col_index", nulls_last=True)
                .group_by("row", maintain_order=True)
                .agg(pl.col("message").filter(pl.col("severity") == "error").str.join("; ").alias("errors"),
                     pl.col("message").str.join("; ").alias("notes")))
    pending = RowStatus.CANCELLED if imp.status == ImportStatus.CANCELLED else RowStatus.NOT_IMPORTED
    if INTENT not in normalized.columns:  # validated before the server kept it
        normalized = normalized.with_columns(pl.lit(None, pl.String).alias(INTENT))
    frame = (normalized.select("row", "action", INTENT)
             .join(messages, on="row", how="left")
             .join(outcomes.read(session, imp.id), on="row", how="left")
             .filter((pl.col("action") != RowAction.SKIP) | pl.col("notes").is_not_null()))
    # A No change row is never written: Skipped before and after the commit, its Action says why.
    unchanged = pl.col("action") == RowAction.NO_CHANGE
    out = frame.select(
        pl.col("row").alias("Row Number"),
        pl.when(pl.col("status").is_not_null()).then(pl.col("status"))
        .when(pl.col("action") == RowAction.ERROR).then(pl.lit(RowStatus.FAILED))
        .when(pl.col("action") == RowAction.SKIP).then(pl.lit(RowStatus.SKIPPED))
        .when(unchanged).then(pl.lit(NO_CHANGE_STATUS))
        .otherwise(pl.lit(pending)).alias("Status"),
        pl.coalesce(pl.col("action_right"),
                    pl.when(pl.col("action").is_in([*VALID_ACTIONS, RowAction.NO_CHANGE])).then(pl.col("action")),
                    # Seed 003: a row that failed validation says what it would have done.
                    pl.when((pl.col("action") == RowAction.ERROR) & pl.col(INTENT).is_in(VALID_ACTIONS))
                    .then(pl.col(INTENT))).alias("Action"),
        pl.col("record_id").cast(pl.String).alias("Created/Updated ID"),
        pl.when(pl.col("message").is_not_null() & (pl.col("message") != "")).then(pl.col("message"))
        .when(unchanged).then(pl.lit(NO_CHANGE_NOTE))
        .when(pl.col("action") == RowAction.SKIP).then(pl.col("notes"))
        .otherwise(pl.col("errors")).fill_null("").alias("Error Messages"),
        pl.col("invoice_id").cast(pl.String).alias(INVOICE_COLUMN),
    )
    if not (imp.options or {}).get("auto_create_invoices"):
        out = out.drop(INVOICE_COLUMN)
    # Options the results show next to each row (seed 004: which importer wrote the records).
    shown = [o for o in builtin_domain(imp.domain).options if o.in_results]
    out = out.with_columns(pl.lit(o.value_label((imp.options or {}).get(o.name, o.default))).alias(o.label)
                           for o in shown)
    return out.select([c for c in [*RESULT_COLUMNS, INVOICE_COLUMN, *(o.label for o in shown)] if c in out.columns])


def errors_frame(session: Session, imp: Import) -> pl.DataFrame:
    """Every validation issue and every row that failed in the commit: Row, Record, Column, ..., Message."""
    normalized, issues = stored_report(session, imp)
    dom = builtin_domain(imp.domain)
    # Seed 003: each failure names the record (its name, e.g. Registered Name or First + Last Name) and the
    # client reference it belongs to (the spec's reference field), then the field and the reason.
    names = [k for k in (dom.name_fields or dom.match_key or dom.field_names[:1]) if k in normalized.columns]
    reference = [dom.reference_field] if dom.reference_field else []
    record = normalized.select(
        "row",
        pl.concat_str([pl.col(k) for k in names], separator=" ", ignore_nulls=True).alias("Record")
        if names else pl.lit(None, pl.String).alias("Record"),
        *[(pl.col(r) if r in normalized.columns else pl.lit(None, pl.String)).alias(r) for r in reference])
    failed = outcomes.read(session, imp.id).filter(pl.col("status") == RowStatus.FAILED)
    # Seed 003: a failure about one field (the link to a parent that failed) names it, with the row's value.
    values = pl.concat([
        normalized.select("row", pl.lit(f).alias("field"), pl.col(f).cast(pl.String).alias("Value"))
        for f in failed["field"].drop_nulls().unique().to_list() if f in normalized.columns
    ] or [pl.DataFrame(schema={"row": pl.Int64, "field": pl.String, "Value": pl.String})])
    commit = failed.join(values, on=["row", "field"], how="left").select(
        pl.col("row").alias("Row"), pl.col("field").alias("Column"), pl.col("field").alias("Field"), "Value",
        pl.lit("error").alias("Severity"), pl.lit("commit_failed").alias("Code"), pl.col("message").alias("Message"))
    frame = (pl.concat([errors_table(issues), commit], how="diagonal")
             .join(record, left_on="Row", right_on="row", how="left").sort("Row", nulls_last=False))
    return frame.select("Row", "Record", *reference, *ERRORS_COLUMNS[1:])


def as_csv(frame: pl.DataFrame) -> bytes:
    """CSV for Excel: UTF-8 with BOM, CRLF, no cell that starts a formula."""
    return csv_bytes(frame)


def as_xlsx(frame: pl.DataFrame, sheet: str = "Results") -> bytes:
    """The same table as a workbook (BulkAssist's XLSX writer: text cells, no cell starts a formula)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.xlsx"
        write_data(frame, path, sheet_name=sheet)
        return path.read_bytes()
