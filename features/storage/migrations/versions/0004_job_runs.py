"""job_runs and drift_reports: the trail of scheduled retraining and drift checks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 20:25:00

Hand-written. ``job_runs`` holds one row per run of ``concord retrain`` or
``concord drift``: started as "running", finished as "succeeded" or
"failed"; a run whose process died is found still "running" with a dead
pid and is marked "crashed" by the next run (docs/adr/0009). ``drift_reports``
keeps the per-feature outcome of every drift check and the path and
checksum of its HTML report, so the monitoring API can answer without
re-running Evidently.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('run_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('job', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('step', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('host', sa.String(length=128), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('triggered_by', sa.String(length=128), nullable=False),
    sa.Column('exit_code', sa.Integer(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('run_id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_job_started', ['job', 'started_at'], unique=False)

    op.create_table('drift_reports',
    sa.Column('report_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reference_start', sa.Date(), nullable=False),
    sa.Column('reference_end', sa.Date(), nullable=False),
    sa.Column('current_start', sa.Date(), nullable=False),
    sa.Column('current_end', sa.Date(), nullable=False),
    sa.Column('rows_reference', sa.Integer(), nullable=False),
    sa.Column('rows_current', sa.Integer(), nullable=False),
    sa.Column('features_checked', sa.Integer(), nullable=False),
    sa.Column('features_drifted', sa.Integer(), nullable=False),
    sa.Column('drift_detected', sa.Boolean(), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('html_path', sa.String(length=1024), nullable=False),
    sa.Column('html_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['job_runs.run_id'], name=op.f('fk_drift_reports_run_id_job_runs')),
    sa.PrimaryKeyConstraint('report_id', name=op.f('pk_drift_reports'))
    )


def downgrade() -> None:
    op.drop_table('drift_reports')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_started')
    op.drop_table('job_runs')
