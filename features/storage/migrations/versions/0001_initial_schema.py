"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 16:20:59.100655
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('entry_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('resource', sa.String(length=256), nullable=False),
    sa.Column('area_ids', sa.Text(), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_audit_log'))
    )
    op.create_table('feature_builds',
    sa.Column('build_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('built_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_period', sa.Date(), nullable=False),
    sa.Column('last_period', sa.Date(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('catalogue_hash', sa.String(length=64), nullable=False),
    sa.Column('data_hash', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=False),
    sa.PrimaryKeyConstraint('build_id', name=op.f('pk_feature_builds'))
    )
    op.create_table('load_batches',
    sa.Column('batch_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=512), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('rows_in', sa.Integer(), nullable=False),
    sa.Column('rows_added', sa.Integer(), nullable=False),
    sa.Column('rows_corrected', sa.Integer(), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('loaded_by', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('batch_id', name=op.f('pk_load_batches'))
    )
    with op.batch_alter_table('load_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_load_batches_sha256'), ['sha256'], unique=False)

    op.create_table('model_versions',
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('artifact_path', sa.String(length=1024), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('manifest', sa.JSON(), nullable=False),
    sa.Column('serving', sa.Boolean(), nullable=False),
    sa.Column('promoted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_model_versions'))
    )
    op.create_table('scores',
    sa.Column('area_id', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('model_version', sa.String(length=64), nullable=False),
    sa.Column('probability', sa.Float(), nullable=False),
    sa.Column('level', sa.String(length=8), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('area_id', 'period_start', 'model_version', name=op.f('pk_scores'))
    )
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.create_index('ix_scores_period_model', ['period_start', 'model_version'], unique=False)

    op.create_table('users',
    sa.Column('user_id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('region_id', sa.String(length=64), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_users')),
    sa.UniqueConstraint('name', name=op.f('uq_users_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_users_token_hash'))
    )
    op.create_table('adjacency',
    sa.Column('area_id', sa.String(length=64), nullable=False),
    sa.Column('neighbor_id', sa.String(length=64), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['load_batches.batch_id'], name=op.f('fk_adjacency_batch_id_load_batches')),
    sa.PrimaryKeyConstraint('area_id', 'neighbor_id', name=op.f('pk_adjacency'))
    )
    op.create_table('areas',
    sa.Column('area_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('name_pinyin', sa.String(length=256), nullable=True),
    sa.Column('parent_id', sa.String(length=64), nullable=True),
    sa.Column('level', sa.String(length=32), nullable=False),
    sa.Column('geometry', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['load_batches.batch_id'], name=op.f('fk_areas_batch_id_load_batches')),
    sa.PrimaryKeyConstraint('area_id', name=op.f('pk_areas'))
    )
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_areas_parent_id'), ['parent_id'], unique=False)

    op.create_table('mediation_cases',
    sa.Column('case_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.String(length=64), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('dispute_type', sa.String(length=64), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('parties', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Float(), nullable=True),
    sa.Column('origin', sa.String(length=16), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['load_batches.batch_id'], name=op.f('fk_mediation_cases_batch_id_load_batches')),
    sa.PrimaryKeyConstraint('case_id', 'version', name=op.f('pk_mediation_cases'))
    )
    with op.batch_alter_table('mediation_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mediation_cases_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mediation_cases_recorded_on'), ['recorded_on'], unique=False)

    op.create_table('petitions',
    sa.Column('petition_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.String(length=64), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('recorded_on', sa.Date(), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('people', sa.Integer(), nullable=True),
    sa.Column('level_reached', sa.String(length=16), nullable=True),
    sa.Column('is_repeat', sa.Boolean(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('satisfied', sa.Boolean(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['load_batches.batch_id'], name=op.f('fk_petitions_batch_id_load_batches')),
    sa.PrimaryKeyConstraint('petition_id', 'version', name=op.f('pk_petitions'))
    )
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_petitions_area_id'), ['area_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_petitions_recorded_on'), ['recorded_on'], unique=False)

    op.create_table('policies',
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('announced_on', sa.Date(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('households_affected', sa.Integer(), nullable=True),
    sa.Column('compensation_ratio', sa.Float(), nullable=True),
    sa.Column('hearing_held', sa.Boolean(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['load_batches.batch_id'], name=op.f('fk_policies_batch_id_load_batches')),
    sa.PrimaryKeyConstraint('policy_id', name=op.f('pk_policies'))
    )
    op.create_table('population',
    sa.Column('area_id', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('residents', sa.Integer(), nullable=False),
    sa.Column('registered', sa.Integer(), nullable=True),
    sa.Column('migrants', sa.Integer(), nullable=True),
    sa.Column('elderly_share', sa.Float(), nullable=True),
    sa.Column('low_income_households', sa.Integer(), nullable=True),
    sa.Column('rental_share', sa.Float(), nullable=True),
    sa.Column('unemployed', sa.Integer(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['load_batches.batch_id'], name=op.f('fk_population_batch_id_load_batches')),
    sa.PrimaryKeyConstraint('area_id', 'period_start', name=op.f('pk_population'))
    )
    op.create_table('policy_areas',
    sa.Column('policy_id', sa.String(length=64), nullable=False),
    sa.Column('area_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.policy_id'], name=op.f('fk_policy_areas_policy_id_policies')),
    sa.PrimaryKeyConstraint('policy_id', 'area_id', name=op.f('pk_policy_areas'))
    )
    _make_audit_log_append_only()


APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
)
APPEND_ONLY_POSTGRES = (
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
)


def _make_audit_log_append_only() -> None:
    """The audit trail cannot be changed through any connection (principle 4)."""
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": APPEND_ONLY_SQLITE, "postgresql": APPEND_ONLY_POSTGRES}.get(dialect, ())
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table('policy_areas')
    op.drop_table('population')
    op.drop_table('policies')
    with op.batch_alter_table('petitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_petitions_recorded_on'))
        batch_op.drop_index(batch_op.f('ix_petitions_area_id'))

    op.drop_table('petitions')
    with op.batch_alter_table('mediation_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mediation_cases_recorded_on'))
        batch_op.drop_index(batch_op.f('ix_mediation_cases_area_id'))

    op.drop_table('mediation_cases')
    with op.batch_alter_table('areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_areas_parent_id'))

    op.drop_table('areas')
    op.drop_table('adjacency')
    op.drop_table('users')
    with op.batch_alter_table('scores', schema=None) as batch_op:
        batch_op.drop_index('ix_scores_period_model')

    op.drop_table('scores')
    op.drop_table('model_versions')
    with op.batch_alter_table('load_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_load_batches_sha256'))

    op.drop_table('load_batches')
    op.drop_table('feature_builds')
    op.drop_table('audit_log')
