"""The database schema, as SQLAlchemy Core tables.

All tables live in one ``MetaData`` so one migration history describes the
whole database (see docs/adr/0002-storage.md). Records are stored as they
were known: versioned kinds (petitions, mediation cases) keep every version,
keyed by id and version number, each with the ``recorded_on`` date from
which it was known. No table holds a person's name or ID number.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

load_batches = sa.Table(
    "load_batches",
    metadata,
    sa.Column("batch_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("source", sa.String(512), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("rows_in", sa.Integer, nullable=False),
    sa.Column("rows_added", sa.Integer, nullable=False),
    sa.Column("rows_corrected", sa.Integer, nullable=False),
    sa.Column("rows_unchanged", sa.Integer, nullable=False),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("loaded_by", sa.String(128), nullable=False),
)

# One row per versioned record table, moved by triggers on every UPDATE or DELETE of it (migration 0009): the
# record cache checks this instead of counting the table's rows.
record_changes = sa.Table(
    "record_changes",
    metadata,
    sa.Column("table_name", sa.String(64), primary_key=True),
    sa.Column("changes", sa.BigInteger, nullable=False, server_default="0"),
)

areas = sa.Table(
    "areas",
    metadata,
    sa.Column("area_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("name_pinyin", sa.String(256)),
    sa.Column("parent_id", sa.String(64), index=True),
    sa.Column("level", sa.String(32), nullable=False),
    sa.Column("geometry", sa.Text),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("load_batches.batch_id"), nullable=False),
)

adjacency = sa.Table(
    "adjacency",
    metadata,
    sa.Column("area_id", sa.String(64), primary_key=True),
    sa.Column("neighbor_id", sa.String(64), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("load_batches.batch_id"), nullable=False),
)

petitions = sa.Table(
    "petitions",
    metadata,
    sa.Column("petition_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("area_id", sa.String(64), nullable=False, index=True),
    sa.Column("received_on", sa.Date, nullable=False),
    sa.Column("recorded_on", sa.Date, nullable=False, index=True),
    sa.Column("category", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(16)),
    sa.Column("people", sa.Integer),
    sa.Column("level_reached", sa.String(16)),
    sa.Column("is_repeat", sa.Boolean),
    sa.Column("status", sa.String(32)),
    sa.Column("closed_on", sa.Date),
    sa.Column("satisfied", sa.Boolean),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("load_batches.batch_id"), nullable=False, index=True),
)

mediation_cases = sa.Table(
    "mediation_cases",
    metadata,
    sa.Column("case_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("area_id", sa.String(64), nullable=False, index=True),
    sa.Column("opened_on", sa.Date, nullable=False),
    sa.Column("recorded_on", sa.Date, nullable=False, index=True),
    sa.Column("dispute_type", sa.String(64), nullable=False),
    sa.Column("closed_on", sa.Date),
    sa.Column("outcome", sa.String(16)),
    sa.Column("parties", sa.Integer),
    sa.Column("amount", sa.Float),
    sa.Column("origin", sa.String(16)),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("load_batches.batch_id"), nullable=False, index=True),
)

population = sa.Table(
    "population",
    metadata,
    sa.Column("area_id", sa.String(64), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("residents", sa.Integer, nullable=False),
    sa.Column("registered", sa.Integer),
    sa.Column("migrants", sa.Integer),
    sa.Column("elderly_share", sa.Float),
    sa.Column("low_income_households", sa.Integer),
    sa.Column("rental_share", sa.Float),
    sa.Column("unemployed", sa.Integer),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("load_batches.batch_id"), nullable=False),
)

# Serves the population cache's signature (count, sum of residents, highest batch) without reading rows (migration 0008).
sa.Index("ix_population_batch_residents", population.c.batch_id, population.c.residents)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("policy_id", sa.String(64), primary_key=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("announced_on", sa.Date, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("households_affected", sa.Integer),
    sa.Column("compensation_ratio", sa.Float),
    sa.Column("hearing_held", sa.Boolean),
    sa.Column("description", sa.Text),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("batch_id", sa.Integer, sa.ForeignKey("load_batches.batch_id"), nullable=False),
)

policy_areas = sa.Table(
    "policy_areas",
    metadata,
    sa.Column("policy_id", sa.String(64), sa.ForeignKey("policies.policy_id"), primary_key=True),
    sa.Column("area_id", sa.String(64), primary_key=True),
)

feature_builds = sa.Table(
    "feature_builds",
    metadata,
    sa.Column("build_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("period", sa.String(8), nullable=False),
    sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("first_period", sa.Date, nullable=False),
    sa.Column("last_period", sa.Date, nullable=False),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("catalogue_hash", sa.String(64), nullable=False),
    sa.Column("data_hash", sa.String(64), nullable=False),
    sa.Column("path", sa.String(1024), nullable=False),
)

model_versions = sa.Table(
    "model_versions",
    metadata,
    sa.Column("version", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("artifact_path", sa.String(1024), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("manifest", sa.JSON, nullable=False),
    sa.Column("serving", sa.Boolean, nullable=False, default=False),
    sa.Column("promoted_at", sa.DateTime(timezone=True)),
)

scores = sa.Table(
    "scores",
    metadata,
    sa.Column("area_id", sa.String(64), primary_key=True),
    sa.Column("period_start", sa.Date, primary_key=True),
    sa.Column("model_version", sa.String(64), primary_key=True),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("level", sa.String(8), nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
    # expected counts with 90% intervals, by target (migration 0002); NULL for older scores
    sa.Column("expected", sa.JSON),
)
sa.Index("ix_scores_period_model", scores.c.period_start, scores.c.model_version)
# the hot read paths: a page in probability order, the latest period of a version (migration 0006)
sa.Index("ix_scores_model_period_probability", scores.c.model_version, scores.c.period_start, scores.c.probability)

users = sa.Table(
    "users",
    metadata,
    sa.Column("user_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(128), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("region_id", sa.String(64), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("entry_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(128), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("resource", sa.String(256), nullable=False),
    sa.Column("area_ids", sa.Text, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("detail", sa.Text),
)

flag_actions = sa.Table(
    # What was done about a flag, and later what came of it (migration 0003).
    # Append-only by use: an outcome is a new row pointing at its action, so
    # the feedback-loop analysis sees every step as it was recorded.
    "flag_actions",
    metadata,
    sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("area_id", sa.String(64), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # "action" or "outcome"
    sa.Column("action", sa.String(32)),
    sa.Column("outcome", sa.String(32)),
    sa.Column("follows", sa.Integer),  # the action an outcome reports on
    sa.Column("note", sa.Text),
    sa.Column("model_version", sa.String(64)),
    sa.Column("recorded_by", sa.String(128), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("ix_flag_actions_area_period", flag_actions.c.area_id, flag_actions.c.period_start)

job_runs = sa.Table(
    # One row per run of `concord retrain` / `concord drift` (migration 0004).
    # A row left "running" by a dead pid is marked "crashed" by the next run.
    "job_runs",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(16), nullable=False),  # "retrain" or "drift"
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("step", sa.String(32), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("host", sa.String(128), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("triggered_by", sa.String(128), nullable=False),
    sa.Column("exit_code", sa.Integer),
    sa.Column("summary", sa.JSON),
    sa.Column("error", sa.Text),
)
sa.Index("ix_job_runs_job_started", job_runs.c.job, job_runs.c.started_at)

drift_reports = sa.Table(
    # The outcome of each drift check, per feature, and its HTML report (0004).
    "drift_reports",
    metadata,
    sa.Column("report_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, sa.ForeignKey("job_runs.run_id")),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("reference_start", sa.Date, nullable=False),
    sa.Column("reference_end", sa.Date, nullable=False),
    sa.Column("current_start", sa.Date, nullable=False),
    sa.Column("current_end", sa.Date, nullable=False),
    sa.Column("rows_reference", sa.Integer, nullable=False),
    sa.Column("rows_current", sa.Integer, nullable=False),
    sa.Column("features_checked", sa.Integer, nullable=False),
    sa.Column("features_drifted", sa.Integer, nullable=False),
    sa.Column("drift_detected", sa.Boolean, nullable=False),
    sa.Column("columns", sa.JSON, nullable=False),
    sa.Column("html_path", sa.String(1024), nullable=False),
    sa.Column("html_sha256", sa.String(64), nullable=False),
)

policy_reviews = sa.Table(
    # Policy reviews (重大决策社会稳定风险评估, migration 0005). Append-only by use:
    # an edit is a new row with the next version, so the decision file can
    # always show what was assessed on which inputs.
    "policy_reviews",
    metadata,
    sa.Column("review_id", sa.String(32), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("policy_type", sa.String(32), nullable=False),
    sa.Column("region_id", sa.String(64), nullable=False, index=True),
    sa.Column("area_ids", sa.Text, nullable=False),  # ";"-joined affected areas, for region checks
    sa.Column("level_before", sa.String(8), nullable=False),
    sa.Column("level_after", sa.String(8), nullable=False),
    sa.Column("proposal", sa.JSON, nullable=False),
    sa.Column("result", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

#: The record tables, by input kind.
RECORD_TABLES: dict[str, sa.Table] = {
    "areas": areas,
    "adjacency": adjacency,
    "petitions": petitions,
    "mediation": mediation_cases,
    "population": population,
    "policies": policies,
}
