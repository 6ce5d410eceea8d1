"""Cases on the server (seed 001): the Duplicate Case Action and Run Workflow on Import (an outbox event).

Cases are only created and may share an Identifier (the match key). The Duplicate Case Action
decides what a row whose Identifier already exists does: create it anyway, create it with the next
treatment period (the spec's `sequence_field`), or skip it.
"""

from __future__ import annotations

import polars as pl

from bulkassist.domains.case import DOMAIN as DOMAIN  # the spec this module adds to
from bulkassist.engine.report import ISSUE_SCHEMA
from bulkassist.server.domains.base import Context, RecordBehaviour, issues_frame
from bulkassist.server.events import CASE_CREATED, write_events
from bulkassist.status import RowAction, RowStatus

_DUPLICATE = "duplicate_action"


class CaseBehaviour(RecordBehaviour):
    unique_keys = False

    def _review_by_key(self, ctx: Context, rows: pl.DataFrame, valid: pl.Series) -> tuple[pl.Series, pl.DataFrame]:
        inserts = pl.repeat(RowAction.INSERT, rows.height, eager=True, dtype=pl.String)  # cases are only created
        if ctx.options.get(_DUPLICATE, "create") != "skip":
            return inserts, pl.DataFrame(schema=ISSUE_SCHEMA)
        keys = self.key_series(rows)
        has_key = keys.is_not_null() & (keys != "")
        found = self.existing(ctx, keys.filter(valid & has_key).to_list())
        dup = valid & has_key & (keys.is_in(list(found)) | (keys.is_duplicated() & ~keys.is_first_distinct()))
        actions = pl.select(pl.when(dup).then(pl.lit(RowAction.SKIP)).otherwise(inserts)).to_series()
        option = self.domain.option(_DUPLICATE)
        reason = (f"a {self.domain.title.lower()} with this {' + '.join(self.keys)} already exists; skipped "
                  f"({option.label}: {dict(option.choices)['skip']})")
        return actions.alias("action"), issues_frame(
            rows["row"].filter(dup).to_list(), [self.keys[0]] * int(dup.sum()), keys.filter(dup).to_list(),
            "duplicate_skipped", [reason] * int(dup.sum()), severity="warning")

    def record_fields(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        fields = super().record_fields(ctx, rows)
        counter = self.domain.sequence_field
        if ctx.options.get(_DUPLICATE) == "create_increment" and counter:
            stated = rows[counter].to_list() if counter in rows.columns else [None] * rows.height
            numbers = pl.Series(self._duplicate_numbers(ctx, self.key_series(rows).to_list(), stated, counter),
                                dtype=pl.Int64)
            given = pl.col(counter) if counter in fields.columns else pl.lit(None, pl.String)
            fields = fields.with_columns(
                pl.when(numbers.is_not_null()).then(numbers.cast(pl.String)).otherwise(given).alias(counter))
        return fields

    def insert(self, ctx: Context, rows: pl.DataFrame, parent_ids: pl.Series) -> pl.DataFrame:
        """Insert the cases; with Run Workflow on Import, a case-created event per inserted case goes to the
        outbox in the same transaction (delivered to the organisation's webhooks by `deliver_pending`)."""
        result = super().insert(ctx, rows, parent_ids)
        if ctx.options.get("run_workflow"):
            ids = result.filter(pl.col("status") == RowStatus.SUCCESS)["record_id"].to_list()
            stored = ctx.store.data_by_id(self.domain.name, ids)
            write_events(ctx.session, ctx.org_id, ctx.import_id, CASE_CREATED, [(i, stored[i]) for i in ids])
        return result

    def _duplicate_numbers(self, ctx: Context, keys: list[str | None], stated: list[str | None], counter: str
                           ) -> list[int | None]:
        """Per row, the number a duplicate gets: 1 after the highest of the stored cases with its key and of
        the rows before it in the file; None for a new case, which keeps the number the file gives it."""
        highest: dict[str, int] = {}
        for stored, data in ctx.store.data_by_key(self.domain.name, [k for k in keys if k]):
            highest[stored] = max(highest.get(stored, 0), int((data or {}).get(counter) or 1))
        numbers: list[int | None] = []
        for key, given in zip(keys, stated, strict=True):
            if key and key in highest:
                highest[key] += 1
                numbers.append(highest[key])
                continue
            numbers.append(None)
            if key:  # a later row with this key is a duplicate of this one
                highest[key] = int(given or 1)
        return numbers


BEHAVIOUR = CaseBehaviour
