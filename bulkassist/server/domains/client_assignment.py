"""Client assignments on the server (seed 000): invoices for new assignments.

That the client and the course section exist is checked from the spec's parent and course links
(`base`); what is left is Auto Create Invoices: each inserted assignment gets an invoice for its
section's fee, an updated one never does.
"""

from __future__ import annotations

import polars as pl

from bulkassist.domains.client_assignment import DOMAIN as DOMAIN  # the spec this module adds to
from bulkassist.server.bulk import allocate_ids, insert_rows
from bulkassist.server.domains.base import Context, RecordBehaviour
from bulkassist.server.models import Invoice, utcnow
from bulkassist.spec import UPDATE

_INVOICE_COLUMNS = ("id", "org_id", "record_id", "import_id", "amount", "created_at")


class ClientAssignmentBehaviour(RecordBehaviour):
    """Matched on the spec's match key; Auto Create Invoices invoices each inserted assignment."""

    def insert(self, ctx: Context, rows: pl.DataFrame, parent_ids: list[int | None]) -> pl.DataFrame:
        result = super().insert(ctx, rows, parent_ids)
        if not ctx.options.get("auto_create_invoices") or ctx.operation == UPDATE:
            return result
        fees = ctx.store.sections()
        link = self.domain.course_link
        assert link is not None  # the domain's spec names the course section of each assignment
        sections = zip(rows[link.course_field].to_list(), rows[link.section_field].to_list(), strict=True)
        table = Invoice.__table__
        invoice_ids = allocate_ids(ctx.session, table, result.height)
        now = utcnow()
        insert_rows(ctx.session, table, _INVOICE_COLUMNS, [
            (i, ctx.org_id, rid, ctx.import_id, fees.get(section, 0.0), now)
            for i, rid, section in zip(invoice_ids, result["record_id"].to_list(), sections, strict=True)])
        return result.with_columns(pl.Series("invoice_id", list(invoice_ids), pl.Int64))


BEHAVIOUR = ClientAssignmentBehaviour
