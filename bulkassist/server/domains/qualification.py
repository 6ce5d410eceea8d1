"""Registration & Certification records on the server (seed 002): matching by a number given later.

The match key's last field is the Registration number, which a record receives after it was first
imported. A row with one updates the record with that number or, failing that, the record of the
same learner + qualification that has no number yet (which then takes it); a row without one
matches only that unregistered record. A number, once given, cannot be removed by import (blank
cells never clear a value).
"""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa

from bulkassist.domains.qualification import DOMAIN as DOMAIN  # the spec this module adds to
from bulkassist.server.domains.base import KEY_SEP, Context, RecordBehaviour, issues_frame
from bulkassist.server.models import Record
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
