"""user names unique per organisation

A global unique user name let one organisation's administrator learn another organisation's user
names from a 409; names are now unique within an organisation (tokens identify users).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:00:00
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# 0001 created the unique constraint on users.name without a name: SQLite has none to drop, so the
# batch (copy-and-move) table gets one from this convention; PostgreSQL named it users_name_key.
_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _old_constraint() -> str:
    return "users_name_key" if op.get_bind().dialect.name == "postgresql" else "uq_users_name"


def upgrade() -> None:
    with op.batch_alter_table('users', naming_convention=_CONVENTION) as batch_op:
        batch_op.drop_constraint(_old_constraint(), type_='unique')
        batch_op.create_unique_constraint('uq_users_org_id_name', ['org_id', 'name'])


def downgrade() -> None:
    with op.batch_alter_table('users', naming_convention=_CONVENTION) as batch_op:
        batch_op.drop_constraint('uq_users_org_id_name', type_='unique')
        batch_op.create_unique_constraint(_old_constraint(), ['name'])
