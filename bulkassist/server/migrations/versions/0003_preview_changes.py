"""preview of changes

Update rows that would change nothing are counted (imports.no_change), and the preview of an import's
updates (stored value -> new value per row and field) is kept next to its report (import_changes).

Revision ID: 0003
Revises: 0006
Create Date: 2026-12-01 05:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('imports') as batch_op:
        batch_op.add_column(sa.Column('no_change', sa.Integer(), nullable=False, server_default='0'))
    op.create_table('import_changes',
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('import_id')
    )


def downgrade() -> None:
    op.drop_table('import_changes')
    with op.batch_alter_table('imports') as batch_op:
        batch_op.drop_column('no_change')
