"""policy_reviews: stored, versioned policy reviews (重大决策社会稳定风险评估)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 20:30:00

Hand-written. One row per (review_id, version); an edit appends the next
version and never overwrites, so every version filed with a decision stays
readable (issue 8).
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policy_reviews',
    sa.Column('review_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('policy_type', sa.String(length=32), nullable=False),
    sa.Column('region_id', sa.String(length=64), nullable=False),
    sa.Column('area_ids', sa.Text(), nullable=False),
    sa.Column('level_before', sa.String(length=8), nullable=False),
    sa.Column('level_after', sa.String(length=8), nullable=False),
    sa.Column('proposal', sa.JSON(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('review_id', 'version', name=op.f('pk_policy_reviews'))
    )
    with op.batch_alter_table('policy_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policy_reviews_region_id'), ['region_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('policy_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policy_reviews_region_id'))
    op.drop_table('policy_reviews')
