"""select list versions

The suggest endpoint keeps an in-memory index per select list; a version per (organisation, list),
new whenever the list's values are replaced, tells it when that index is stale without reading the
list. Lists that exist already get a version here.

Revision ID: 0009
Revises: 0005
Create Date: 2026-12-01 05:45:00
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('select_lists',
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('list_name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('org_id', 'list_name')
    )
    bind = op.get_bind()
    existing = bind.execute(sa.text("SELECT DISTINCT org_id, list_name FROM select_values")).all()
    if existing:
        table = sa.table('select_lists', sa.column('org_id'), sa.column('list_name'), sa.column('version'))
        op.bulk_insert(table, [{"org_id": o, "list_name": n, "version": uuid.uuid4().hex} for o, n in existing])


def downgrade() -> None:
    op.drop_table('select_lists')
