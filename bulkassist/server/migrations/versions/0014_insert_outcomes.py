"""insert outcomes: a commit chunk's plain Success inserts as one row holding a blob of (row, record_id)

One outcome row per inserted record was about a fifth of a big insert commit: at 200,000
client rows, 2.7 of 10 s on SQLite and 3 of 18 s on PostgreSQL went to writing `row_results`, one row per
inserted record. Outcomes that say more (failed, updated, a message, an invoice) stay in row_results.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 14:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'insert_outcomes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('first_row', sa.Integer(), nullable=False),
        sa.Column('last_row', sa.Integer(), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['imports.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_insert_outcomes_rows', 'insert_outcomes', ['import_id', 'first_row'])


def downgrade() -> None:
    op.drop_index('ix_insert_outcomes_rows', table_name='insert_outcomes')
    op.drop_table('insert_outcomes')
