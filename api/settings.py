"""Settings, read once at the edge and passed down as plain arguments.

Environment variables prefixed ``CONCORD_`` override a TOML settings file
(``CONCORD_SETTINGS_FILE``, default ``concord.toml`` in the working folder),
which overrides the defaults. ``features`` and ``models`` never read this
module: they take what they need as arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEVELOPMENT_HASH_KEY = "development-only-key-change-me"


class LabelSettings(BaseModel):
    """What counts as the event to forecast (docs/adr/0003-escalation-label.md)."""

    kind: Literal["escalation", "category_count"] = "escalation"
    horizon: int = Field(1, ge=1, le=4, description="periods ahead, 1 to 4")
    categories: list[str] = Field(default_factory=list, description="for category_count")
    threshold: int = Field(1, ge=1, description="for category_count: at least this many petitions")


class LevelSettings(BaseModel):
    """Probability cut-offs for the published levels (docs/adr/0004-level-cutoffs.md)."""

    high: float = Field(0.20, gt=0, lt=1)
    medium: float = Field(0.08, gt=0, lt=1)

    @model_validator(mode="after")
    def _ordered(self) -> LevelSettings:
        if self.medium >= self.high:
            raise ValueError(f"levels.medium ({self.medium}) must be below levels.high ({self.high})")
        return self


# --- Retraining and monitoring (issue 7; docs/monitoring.md) -------------------------------
class MonitoringSettings(BaseModel):
    """`concord retrain` / `concord drift`: sources, promotion gate, drift thresholds, lock."""

    model_config = ConfigDict(extra="forbid")

    inbox_dir: Path | None = Field(None, description="folder of record files to load each run; default data_dir/inbox")
    source_url: SecretStr | None = Field(None, description="SQLAlchemy URL of a source database to read records from")
    source_queries: dict[str, str] = Field(default_factory=dict, description="record kind -> SQL query on source_url")
    promotion_margin: float = Field(0.005, ge=0, lt=1, description="average precision the challenger must gain")
    calibration_tolerance: float = Field(0.0, ge=0, lt=1, description="ECE the challenger may lose")
    comparison_folds: int = Field(3, ge=1, le=12, description="most recent rolling origins compared")
    comparison_stride: int = Field(4, ge=1, le=52, description="periods scored per origin")
    drift_reference_periods: int = Field(13, ge=2, le=104)
    drift_current_periods: int = Field(4, ge=1, le=52)
    drift_threshold: float = Field(0.1, gt=0, lt=1, description="distance at which a column has drifted")
    drift_share: float = Field(0.25, gt=0, le=1, description="share of drifted features that means the data drifted")
    drift_sample_rows: int = Field(100_000, ge=1_000, le=2_000_000, description="rows sampled per window for Evidently")
    drift_report_columns: int = Field(30, ge=1, le=500, description="features drawn in the Evidently HTML report")
    lock_wait_seconds: float = Field(0.0, ge=0, le=86_400, description="how long a second run waits for the lock")

    @model_validator(mode="after")
    def _sources_complete(self) -> MonitoringSettings:
        from features.contracts import KINDS

        unknown = sorted(set(self.source_queries) - set(KINDS))
        if unknown:
            raise ValueError(f"monitoring.source_queries has unknown kinds {unknown}; kinds are {', '.join(KINDS)}")
        if bool(self.source_queries) != (self.source_url is not None):
            raise ValueError("monitoring.source_url and monitoring.source_queries must be given together")
        return self
# --- end of retraining and monitoring settings ----------------------------------------------


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CONCORD_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file="concord.toml",
    )

    env: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite under data_dir")
    hash_key: SecretStr = SecretStr(DEVELOPMENT_HASH_KEY)
    suppression_k: int = Field(5, ge=1, description="counts below k are shown as '<k'")
    period: Literal["week", "month"] = "week"
    week_start: Literal["monday", "sunday"] = "monday"
    timezone: str = "Asia/Shanghai"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    build_malloc_arenas: int | None = Field(
        2, ge=1, le=64, description=("glibc malloc arenas a feature build caps its process at, so its threads reuse "
                                     "each other's freed memory (docs/adr/0014 decision 13); none: glibc's own choice, "
                                     "e.g. MALLOC_ARENA_MAX"))
    label: LabelSettings = Field(default_factory=LabelSettings)
    levels: LevelSettings = Field(default_factory=LevelSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)  # issue 7

    # --- Policy review (issue 8; docs/adr/0010-policy-review-method.md) ---------------------------
    # The estimator's windows, the evidence thresholds and the published risk-level rule. Passed
    # down to models.policy as plain arguments by api/review_schemas.review_params().
    class PolicyReviewSettings(BaseModel):
        pre_weeks: int = Field(26, ge=8, le=104, description="weeks before an announcement compared")
        weeks_after_effective: int = Field(4, ge=0, le=26, description="post window: until this long after effect")
        active_weeks_after_effective: int = Field(26, ge=0, le=156, description="how long a decision may act")
        horizon_weeks_after_effective: int = Field(26, ge=1, le=156, description="forecast horizon after effect")
        controls_per_area: int = Field(5, ge=1, le=50)
        placebos: int = Field(300, ge=50, le=5000, description="placebo bootstrap draws per decision")
        bootstrap_draws: int = Field(400, ge=50, le=5000, description="bootstrap draws over analogues")
        min_analogues: int = Field(5, ge=2, description="fewer analogues: wide t-interval and a warning")
        high_multiplier: float = Field(2.0, gt=1, description="rule: confidently this many times the disputes: high")
        medium_multiplier: float = Field(1.25, gt=1, description="rule: estimated this many times: medium")
        high_opposed: float = Field(0.5, gt=0, le=1, description="rule: survey share opposed for high")
        medium_opposed: float = Field(0.2, gt=0, le=1, description="rule: survey share opposed for medium")

        @model_validator(mode="after")
        def _ordered(self):  # noqa: ANN202 - pydantic validator
            if self.medium_multiplier >= self.high_multiplier or self.medium_opposed >= self.high_opposed:
                raise ValueError("policy_review: the medium cut-offs must be below the high ones")
            return self

    policy_review: PolicyReviewSettings = Field(default_factory=PolicyReviewSettings)
    # --- end policy review --------------------------------------------------------------------------
    # The HTTP service (issue 6): browsers from other origins are refused
    # unless listed here; bodies are capped so one request cannot exhaust memory or disk.
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS; empty: CORS closed")
    max_body_bytes: int = Field(1_048_576, ge=1024, description="largest JSON request body")
    max_upload_bytes: int = Field(512 * 1_048_576, ge=1024, description="largest record upload (streamed to disk)")
    db_pool_size: int = Field(16, ge=1, le=80, description=("database connections the service keeps open; about the "
                                                           "number of requests it serves at once"))
    cache_seconds: float = Field(
        2.0, ge=0, le=60, description=("how long the service keeps a token's user, the serving model and a period's "
                                      "ranking before asking the database again; a revocation, promotion or new "
                                      "scoring run applies within this time (docs/adr/0013); 0 asks every time"))

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.env == "production" and self.hash_key.get_secret_value() == DEVELOPMENT_HASH_KEY:
            raise ValueError("CONCORD_HASH_KEY must be set to a secret of your own in production")
        return self

    @property
    def registry_dir(self) -> Path:
        """Where model artifacts live (their checksums are in the database)."""
        return self.data_dir / "registry"

    @property
    def demo_city_dir(self) -> Path:
        """Where ``concord demo`` writes its simulated city (and its truth, for the oracle)."""
        return self.data_dir / "demo-city"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'concord.db').resolve()}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        import os

        toml_file = Path(os.environ.get("CONCORD_SETTINGS_FILE", "concord.toml"))
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=toml_file),
        )
