"""Settings, read once at the edge and passed down as plain arguments.

Environment variables prefixed ``CONCORD_`` override a TOML settings file
(``CONCORD_SETTINGS_FILE``, default ``concord.toml`` in the working folder),
which overrides the defaults. ``features`` and ``models`` never read this
module: they take what they need as arguments.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
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
    def _ordered(self) -> "LevelSettings":
        if self.medium >= self.high:
            raise ValueError(f"levels.medium ({self.medium}) must be below levels.high ({self.high})")
        return self


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
    label: LabelSettings = Field(default_factory=LabelSettings)
    levels: LevelSettings = Field(default_factory=LevelSettings)

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> "Settings":
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
