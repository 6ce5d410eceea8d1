"""undo log: what each import changed, the organisation's undo retention, undo progress, voided invoices

Revision ID: 0004
Revises: 0008
Create Date: 2026-12-01 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('import_undo_log',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('before_key', sa.String(length=400), nullable=True),
    sa.Column('written_at', sa.DateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('message', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id', 'record_id'),
    sqlite_with_rowid=False,  # SQLite: one b-tree (the key), not a table and an index
    )
    with op.batch_alter_table('organisations') as batch_op:
        batch_op.add_column(sa.Column('undo_retention_days', sa.Integer(), server_default='30', nullable=False))
    with op.batch_alter_table('imports') as batch_op:
        batch_op.add_column(sa.Column('undo_force', sa.Boolean(), server_default=sa.false(), nullable=False))
        for name in ('undo_done', 'undo_total', 'removed', 'restored', 'conflicts'):
            batch_op.add_column(sa.Column(name, sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('reverted_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('invoices') as batch_op:
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('void_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('invoices') as batch_op:
        batch_op.drop_column('void_reason')
        batch_op.drop_column('voided_at')
    with op.batch_alter_table('imports') as batch_op:
        for name in ('reverted_at', 'conflicts', 'restored', 'removed', 'undo_total', 'undo_done', 'undo_force'):
            batch_op.drop_column(name)
    with op.batch_alter_table('organisations') as batch_op:
        batch_op.drop_column('undo_retention_days')
    op.drop_table('import_undo_log')
