"""record fields as text: records.data and import_undo_log.before are text on PostgreSQL, not json

PostgreSQL parses every `json` value it stores (to check it), and a commit stores one per record: measured
on 200,000 client records copied into PostgreSQL, the parse cost a fifth of the server's CPU for the COPY.
Nothing reads the fields inside the database (readers get the text and decode it), so `text` holds the
same JSON without the parse; the model's `JSONText` encodes and decodes it as `json` did. The undo log's
`before` is a copy of `data` (INSERT ... SELECT), so it changes with it. `USING data::text` keeps each
value's text exactly as stored (a rewrite of the table, once).

SQLite stores JSON as text already: the columns keep their declared type there, and hold the same text.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 17:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_COLUMNS = (("records", "data", False), ("import_undo_log", "before", True))


def upgrade() -> None:
    _retype(sa.Text(), sa.JSON(), "text")


def downgrade() -> None:
    _retype(sa.JSON(), sa.Text(), "json")


def _retype(kind: sa.types.TypeEngine, was: sa.types.TypeEngine, cast: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, nullable in _COLUMNS:
        op.alter_column(table, column, type_=kind, existing_type=was, existing_nullable=nullable,
                        postgresql_using=f'"{column}"::{cast}')
