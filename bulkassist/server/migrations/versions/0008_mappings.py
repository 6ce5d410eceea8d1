"""column mappings, remembered values

Saved column mappings per organisation and domain (reused on the next file with the same headers),
value fixes an organisation remembered, and on each import the mapping chosen for it, the saved mapping
it came from and the columns still unmapped (they block the commit). Issue 9.

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-01 05:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('headers_key', sa.String(length=64), nullable=False),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'domain', 'name', name='uq_mappings_name'),
    sa.UniqueConstraint('org_id', 'domain', 'headers_key', name='uq_mappings_headers'),
    )
    op.create_table('remembered_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=64), nullable=False),
    sa.Column('field', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.Index('ix_remembered_values_org_domain', 'org_id', 'domain'),
    )
    with op.batch_alter_table('imports') as batch_op:
        batch_op.add_column(sa.Column('mapping', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('mapping_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('unmapped', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('imports') as batch_op:
        batch_op.drop_column('unmapped')
        batch_op.drop_column('mapping_id')
        batch_op.drop_column('mapping')
    op.drop_table('remembered_values')
    op.drop_table('mappings')
