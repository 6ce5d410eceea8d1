"""blobs stored as they are: PostgreSQL no longer compresses the batches and reports the server compresses itself

Uploaded batches (Arrow IPC, LZ4) and stored reports (Parquet, LZ4) arrive compressed already, but a
bytea column's default storage (EXTENDED) makes PostgreSQL run its own pglz over every value before it
moves it out of line: measured on a 50,000-row batch (5.6 MB), the INSERT took 0.42 s with it and
0.12 s without, and reading the value back decompresses it again. EXTERNAL keeps the out-of-line storage
and skips the compression. It applies to values written from now on; older values stay readable as
they are. SQLite stores blobs as given already.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 14:30:00
"""

from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

_BLOBS = (("import_batches", "payload"), ("import_reports", "data"), ("import_reports", "normalized"),
          ("import_reports", "issues"), ("import_changes", "data"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in _BLOBS:
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STORAGE EXTERNAL')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in _BLOBS:
        op.execute(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET STORAGE EXTENDED')
