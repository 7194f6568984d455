"""scores.expected: expected counts with their 90% intervals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 17:30:00

Hand-written. One nullable JSON column, so scores written before this
revision (and by models without count forecasts) stay valid:
``{"petitions": {"expected": 1.8, "lower": 0, "upper": 5, "window": 1}, ...}``.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expected', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_column('expected')
