"""bulk tables without per-row foreign-key checks: records.org_id and row_results.import_id (PostgreSQL)

A commit writes a record and a row outcome per row with COPY; each foreign key made PostgreSQL run one
referential-integrity query per copied row (a trigger per row): measured at 100,000 rows, the two checks
cost about as much as the COPY of the rows themselves. Both columns are written from the import row the
commit holds locked (its organisation and its ID), and the server never deletes an organisation or an
import, so the checks guarded nothing the commit could get wrong. The indexes stay (the primary key of
row_results leads with import_id; ix_records_key with org_id).

SQLite keeps the constraints: it checks a foreign key with one lookup of the parent's primary key inside
the INSERT (no trigger, no query), and dropping one there would copy the whole table (batch mode).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 11:00:00
"""

from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_CONSTRAINTS = (("records", "org_id", "organisations"), ("row_results", "import_id", "imports"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, _ in _CONSTRAINTS:
        op.drop_constraint(f"{table}_{column}_fkey", table, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, parent in _CONSTRAINTS:
        op.create_foreign_key(f"{table}_{column}_fkey", table, parent, [column], ["id"], ondelete="CASCADE")
