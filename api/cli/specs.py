"""Settings → the plain specs that ``features`` and ``models`` take as arguments."""

from __future__ import annotations

from api.settings import Settings
from features.labels import LabelSpec
from features.pipeline import PanelSpec


def panel_spec(settings: Settings, *, period: str | None = None) -> PanelSpec:
    """The panel the settings describe; ``period`` overrides the settings' period."""
    label = LabelSpec(
        kind=settings.label.kind, horizon=settings.label.horizon,
        categories=tuple(settings.label.categories), threshold=settings.label.threshold,
    )
    return PanelSpec(
        period=period or settings.period, week_start=settings.week_start, label=label, timezone=settings.timezone,
    )
