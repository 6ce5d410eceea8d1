"""Registration & Certification records on the server (seed 002): matching by a number given later, and
statuses that revert without one.

The match key's last field is the Registration number, which a record receives after it was first
imported. A row with one updates the record with that number or, failing that, the record of the
same learner + qualification that has no number yet (which then takes it); a row without one
matches only that unregistered record. A number, once given, cannot be removed by import (blank
cells never clear a value).

Note 4: a row moving a record to a status that needs a Registration number (the spec's `requires_when`
rule with `revert_to`), without one, keeps the record's previous status, or `revert_to` for a new
record; its results row says which status was kept and why.
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from bulkassist.domains.qualification import DOMAIN as DOMAIN  # the spec this module adds to
from bulkassist.server.domains.base import (
    KEY_SEP,
    Context,
    RecordBehaviour,
    issues_frame,
    with_notes,
)
from bulkassist.server.models import Record
from bulkassist.spec import Rule
from bulkassist.status import RowAction


def _registration(key: str) -> str:
    return key.rsplit(KEY_SEP, 1)[-1]


def _unregistered(key: str) -> str:
    return key.rsplit(KEY_SEP, 1)[0] + KEY_SEP


class QualificationBehaviour(RecordBehaviour):
    def existing(self, ctx: Context, keys: list[str]) -> dict[str, int]:
        found = super().existing(ctx, keys)
        first_time = {k: _unregistered(k) for k in keys if k and k not in found and _registration(k)}
        if first_time:
            unregistered = super().existing(ctx, list(first_time.values()))
            found.update({k: unregistered[u] for k, u in first_time.items() if u in unregistered})
        return found

    @property
    def _reverting(self) -> Rule | None:
        """The spec's rule naming the statuses that need a Registration number, and what a new record keeps."""
        return next((r for r in self.domain.rules if r.check == "requires_when" and "revert_to" in r.params), None)

    def write(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        rule = self._reverting
        if rule is None or not set(rule.fields) <= set(rows.columns):
            return super().write(ctx, rows)
        status, number = rule.fields
        reverts = rows.filter(pl.col(status).is_in(rule.params["values"]) & pl.col(number).is_null())
        if not reverts.height:
            return super().write(ctx, rows)
        # The previous status of the record each updating row matches (new records keep `revert_to`).
        keys = self.key_series(reverts)
        targets = self.existing(ctx, [k for k in keys.to_list() if k])
        stored = ctx.store.data_by_id(self.domain.name, list(targets.values()))
        previous = {k: (stored.get(i) or {}).get(status) for k, i in targets.items()}
        changed = reverts.select("row", "action", status).with_columns(
            pl.when(pl.col("action") == RowAction.UPDATE)
            .then(keys.replace_strict(previous, default=None, return_dtype=pl.String)).alias("_previous"),
        ).with_columns(
            pl.coalesce("_previous", pl.lit(rule.params["revert_to"])).alias("_kept"),
            pl.when(pl.col("_previous").is_not_null()).then(pl.lit("the record's previous status"))
            .when(pl.col("action") == RowAction.INSERT).then(pl.lit("the status of a new record"))
            .otherwise(pl.lit("the record had no status")).alias("_whose"),
        ).select("row", "_kept", pl.format(
            f"{status} '{{}}' is not permitted without a {number}, so the status reverted: kept '{{}}' ({{}}). "
            f"Import the row again with its {number} to change the status",
            pl.col(status), pl.col("_kept"), pl.col("_whose")).alias("_note"))
        rows = (rows.join(changed, on="row", how="left")
                .with_columns(pl.coalesce("_kept", status).alias(status)).drop("_kept"))
        return with_notes(super().write(ctx, rows.drop("_note")), changed)

    def update(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame:
        keys = self.key_series(rows).to_list()
        targets = self.existing(ctx, keys)
        result = super().update(ctx, rows)
        # A record that received its first Registration number is found by it from now on.
        rekey = [{"id": targets[k], "key": k} for k in keys if k in targets and _registration(k)]
        if rekey:
            ctx.session.execute(sa.update(Record), rekey)
        return result

    def extra_checks(self, ctx: Context, rows: pl.DataFrame) -> pl.DataFrame | None:
        """A row without a Registration number whose learner + qualification is already registered creates
        a second record: say so, since the person almost certainly meant to update the first."""
        keys = self.key_series(rows)
        new = rows.with_columns(keys.alias("_key")).filter((pl.col("action") == RowAction.INSERT) & (pl.col("_key") != "")
                                                            & pl.col("_key").str.ends_with(KEY_SEP))
        if not new.height:
            return None
        registered: dict[str, str] = {}
        for key in ctx.store.keys_starting(self.domain.name, new["_key"].to_list()):
            if _registration(key):
                registered.setdefault(_unregistered(key), _registration(key))
        hits = new.filter(pl.col("_key").is_in(list(registered)))
        *learner, number = self.keys
        return issues_frame(
            hits["row"].to_list(), [number] * hits.height, [None] * hits.height, "registered_elsewhere",
            [f"this {' and '.join(learner)} already have a record with {number} {registered[k]}; without it this "
             f"row creates a second record. Add the {number} to update that record" for k in hits["_key"].to_list()],
            severity="warning")


BEHAVIOUR = QualificationBehaviour
