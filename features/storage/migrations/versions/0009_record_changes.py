"""record_changes: a counter per versioned record table that triggers move on every UPDATE or DELETE

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 14:40:00

Hand-written. Versioned records are only ever appended (a correction is a
new version). A feature build's record cache (features.pipeline.record_cache)
must still notice when that was broken by hand: a version removed or
changed in place. It used to count the table's rows up to its watermark,
which reads every row: ~25 ms of each weekly build on SQLite and ~130 ms a
table on PostgreSQL for 3 million versions, growing with the table. These
triggers keep the answer in one row instead (docs/adr/0014 decision 14).

A migration that rebuilds either table on SQLite ("move and copy" batch
mode) drops its triggers and must create them again.
"""
import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES = ('petitions', 'mediation_cases')


def upgrade() -> None:
    op.create_table(
        'record_changes',
        sa.Column('table_name', sa.String(length=64), nullable=False),
        sa.Column('changes', sa.BigInteger(), server_default='0', nullable=False),
        sa.PrimaryKeyConstraint('table_name', name=op.f('pk_record_changes')),
    )
    op.bulk_insert(sa.table('record_changes', sa.column('table_name', sa.String)), [{'table_name': t} for t in TABLES])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE FUNCTION record_changed() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN UPDATE record_changes SET changes = changes + 1 WHERE table_name = TG_TABLE_NAME; "
                   "RETURN NULL; END $$")
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_changed AFTER UPDATE OR DELETE OR TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION record_changed()")
    else:  # SQLite: row triggers (it has no TRUNCATE; a DELETE without WHERE fires them too while triggers exist)
        for table in TABLES:
            for event in ('UPDATE', 'DELETE'):
                op.execute(f"CREATE TRIGGER {table}_changed_{event.lower()} AFTER {event} ON {table} "
                           f"BEGIN UPDATE record_changes SET changes = changes + 1 WHERE table_name = '{table}'; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_changed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS record_changed()")
    else:
        for table in TABLES:
            for event in ('update', 'delete'):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_changed_{event}")
    op.drop_table('record_changes')
