"""seed rules (issue 10)

- import_batches.data_bytes: the bytes a batch's rows take as a CSV, so the server holds a domain to its
  file limit (seed 002: under 2 MB) whatever client uploaded the rows;
- row_results.field: the field a commit failure is about (seed 003: a record whose parent failed names
  the link field in the errors file);
- courses.has_certificate and credit_types (seed 004): a course shell has no certificate; credit types
  have a maximum and may award variable (partial) credit.

Revision ID: 0005
Revises: 0002
Create Date: 2026-12-01 05:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('import_batches') as batch_op:
        batch_op.add_column(sa.Column('data_bytes', sa.BigInteger(), nullable=False, server_default='0'))
    with op.batch_alter_table('row_results') as batch_op:
        batch_op.add_column(sa.Column('field', sa.String(length=200), nullable=True))
    with op.batch_alter_table('courses') as batch_op:
        batch_op.add_column(sa.Column('has_certificate', sa.Boolean(), nullable=False, server_default=sa.true()))
    op.create_table('credit_types',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('max_credits', sa.Float(), nullable=False),
    sa.Column('variable', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organisations.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'name', name='uq_credit_types_org_id_name')
    )


def downgrade() -> None:
    op.drop_table('credit_types')
    with op.batch_alter_table('courses') as batch_op:
        batch_op.drop_column('has_certificate')
    with op.batch_alter_table('row_results') as batch_op:
        batch_op.drop_column('field')
    with op.batch_alter_table('import_batches') as batch_op:
        batch_op.drop_column('data_bytes')
