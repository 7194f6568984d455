"""Scoring columns and drawing Evidently's report: the two costs of a drift check, kept apart.

Every column is scored with Evidently's own stat-test implementations
(milliseconds per column); the HTML report renders a plotly figure per
column (about a quarter of a second each on the development machines), so
it is drawn only for the columns that matter (timings: docs/monitoring.md,
"Speed").
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from models.monitoring import stattest

NOISE_FACTOR = 2.5


def effective_threshold(threshold: float, *, reference_rows: int, current_rows: int) -> float:
    """The configured threshold, raised to the sampling-noise floor of windows this small."""
    if not reference_rows or not current_rows:
        return threshold
    return max(threshold, NOISE_FACTOR * (1 / reference_rows + 1 / current_rows) ** 0.5)


def column_scores(reference: pd.DataFrame, current: pd.DataFrame, *, columns: list[str], method: str,
                  categorical: bool, threshold: float) -> dict[str, float]:
    """Evidently's own drift score of each column (missing values dropped), without building its report.

    The report renders a plotly figure per column (about a quarter of a second
    each on the development machines); scores for every column cost
    milliseconds, and the report is then drawn for the columns that matter.
    """
    from evidently.legacy.calculations.stattests.registry import get_stattest
    from evidently.legacy.core import ColumnType

    kind = ColumnType.Categorical if categorical else ColumnType.Numerical
    out = {}
    for column in columns:
        ref, cur = reference[column].dropna(), current[column].dropna()
        test = get_stattest(ref, cur, kind, method)
        out[column] = float(test(ref, cur, kind, threshold).drift_score)
    return out


def evidently_report(reference: pd.DataFrame, current: pd.DataFrame, *, numerical: list[str], categorical: list[str],
                     threshold: float, per_column_method: dict[str, str] | None = None) -> Any:
    """Evidently's drift preset over the given columns, with the same methods and threshold as the scores."""
    from evidently import (  # heavy import, paid only when drift runs
        DataDefinition,
        Dataset,
        Report,
    )
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    columns = [*numerical, *categorical]
    report = Report([DataDriftPreset(columns=columns, method=stattest.register(), cat_method="jensenshannon",
                                     threshold=threshold, per_column_method=per_column_method)])
    return report.run(Dataset.from_pandas(current[columns], data_definition=definition),
                      Dataset.from_pandas(reference[columns], data_definition=definition))


def report_columns(scores: dict[str, float], *, limit: int, always: list[str]) -> list[str]:
    """The columns drawn in the HTML report: ``always`` first, then the highest scores, at most ``limit``."""
    ranked = [c for c, _ in sorted(scores.items(), key=lambda item: -item[1]) if c not in always]
    return [c for c in always if c in scores] + ranked[: max(0, limit - len(always))]
