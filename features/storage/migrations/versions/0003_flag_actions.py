"""flag_actions: what a risk officer did about a flag, and what came of it

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 20:40:00

Hand-written. Rows are only ever appended (an outcome is its own row that
points at the action it reports on), so the history of a flag is kept as
it was recorded for the feedback-loop analysis of DESIGN.md principle 5.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('flag_actions',
    sa.Column('action_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('area_id', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('follows', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('recorded_by', sa.String(length=128), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('action_id', name=op.f('pk_flag_actions'))
    )
    with op.batch_alter_table('flag_actions', schema=None) as batch_op:
        batch_op.create_index('ix_flag_actions_area_period', ['area_id', 'period_start'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('flag_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_flag_actions_area_period')
    op.drop_table('flag_actions')
