"""Client assignments on the server (seed 000): invoices for new assignments.

That the client and the course section exist is checked from the spec's parent and course links
(`base`); what is left is Auto Create Invoices: each inserted assignment gets an invoice for its
section's fee, an updated one never does.
"""

from __future__ import annotations

import polars as pl

from bulkassist.domains.client_assignment import DOMAIN as DOMAIN  # the spec this module adds to
from bulkassist.server.bulk import allocate_ids, insert_frame
from bulkassist.server.domains.base import Context, RecordBehaviour
from bulkassist.server.models import Invoice, utcnow
from bulkassist.spec import UPDATE


class ClientAssignmentBehaviour(RecordBehaviour):
    """Matched on the spec's match key; Auto Create Invoices invoices each inserted assignment."""

    def insert(self, ctx: Context, rows: pl.DataFrame, parent_ids: pl.Series) -> pl.DataFrame:
        result = super().insert(ctx, rows, parent_ids)
        if not ctx.options.get("auto_create_invoices") or ctx.operation == UPDATE:
            return result
        link = self.domain.course_link
        if link is None:
            raise TypeError(f"{self.domain.title} has no course link to invoice")
        fees = pl.DataFrame([(c, s, fee) for (c, s), fee in ctx.store.sections().items()],
                            schema={"_course": pl.String, "_section": pl.String, "amount": pl.Float64}, orient="row")
        invoice_ids = allocate_ids(ctx.session, Invoice.__table__, result.height)
        invoices = rows.select(pl.col(link.course_field).cast(pl.String).alias("_course"),
                               pl.col(link.section_field).cast(pl.String).alias("_section"), result["record_id"],
                               invoice_ids)
        insert_frame(ctx.session, Invoice.__table__, invoices.join(fees, on=["_course", "_section"], how="left",
                                                                    maintain_order="left").select(
            "id", "record_id", pl.col("amount").fill_null(0.0), org_id=pl.lit(ctx.org_id, pl.Int64),
            import_id=pl.lit(ctx.import_id, pl.Int64), created_at=pl.lit(utcnow(), pl.Datetime("us"))))
        return result.with_columns(invoice_ids.alias("invoice_id"))


BEHAVIOUR = ClientAssignmentBehaviour
