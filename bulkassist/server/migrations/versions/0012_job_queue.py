"""job queue: procrastinate's tables on PostgreSQL; the imports' own worker and heartbeat columns go

Commits, undos and webhook deliveries became jobs (`bulkassist/server/jobs.py`): on PostgreSQL they
wait in procrastinate's tables, created here from the schema of the installed procrastinate (3.x), unless
the database has them already. A later procrastinate release that changes its schema ships SQL
migrations (procrastinate.schema.SchemaManager.get_migrations_path()): a later revision applies them.
SQLite servers run their jobs in-process and need no table. The claim-and-heartbeat columns the server
used before (imports.worker, imports.heartbeat_at) are dropped: procrastinate's workers beat instead.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql" and bind.scalar(sa.text("SELECT to_regclass('procrastinate_jobs')")) is None:
        from procrastinate.schema import SchemaManager

        # Several statements and plpgsql bodies: sent as one simple query on the driver's connection.
        driver = bind.connection.driver_connection
        assert driver is not None  # a live psycopg connection: alembic runs in its transaction
        driver.execute(SchemaManager.get_schema())
    # A plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 too), never a batch copy of the table: on SQLite
    # that drops and recreates `imports`, and with foreign keys on, dropping it cascades to its children.
    op.drop_column('imports', 'heartbeat_at')
    op.drop_column('imports', 'worker')


def downgrade() -> None:
    op.add_column('imports', sa.Column('worker', sa.String(length=100), nullable=True))
    op.add_column('imports', sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
