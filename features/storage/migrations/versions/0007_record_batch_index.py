"""petitions, mediation_cases: an index on batch_id, so a feature build reads only the batches loaded since its cache

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 23:10:00

Hand-written. Incremental feature builds keep the versions they read in a
Arrow cache and ask the database only for ``batch_id > watermark``
(docs/adr/0012-incremental-snapshot-cache.md); without an index that is a
scan of the whole table, which is what the cache is there to avoid.
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('petitions', 'mediation_cases'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_batch_id'), ['batch_id'], unique=False)


def downgrade() -> None:
    for table in ('petitions', 'mediation_cases'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_batch_id'))
