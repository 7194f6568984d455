"""population: a covering index on (batch_id, residents), so a feature build's cache check reads no table rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 17:05:00

Hand-written. Every incremental feature build asks the population table
for its signature (rows, sum of ``residents``, highest ``batch_id``) to
vouch for its population cache (``features.pipeline.population_cache``).
Without this index that is a scan of the whole table, ~80 ms of a weekly
build on the benchmark city; over the index it is ~20-35 ms, and the
highest batch is a lookup (docs/adr/0014 decision 13).
"""
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('population', schema=None) as batch_op:
        batch_op.create_index('ix_population_batch_residents', ['batch_id', 'residents'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('population', schema=None) as batch_op:
        batch_op.drop_index('ix_population_batch_residents')
