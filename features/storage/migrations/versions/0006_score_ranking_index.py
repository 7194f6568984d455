"""scores: an index that serves the ranking and the latest-period lookup of the hot read paths

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 21:00:00

Hand-written. ``(model_version, period_start, probability)`` lets
``GET /v1/hotspots`` read a page in probability order without sorting the
period's rows, and ``max(period_start)`` for a model version is an index
lookup (docs/benchmarks.md, service section).
"""
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.create_index('ix_scores_model_period_probability', ['model_version', 'period_start', 'probability'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_index('ix_scores_model_period_probability')
