"""What the models learn from beyond the feature catalogue: label history, count targets, horizons.

Three derivations from a stored panel, all point-in-time safe:

- **history features** (``add_history``): each area's own escalation record
  read through the baselines of models/baselines.py — long-run rate and
  exponentially weighted rates — using only labels known when the row's
  period starts (``lag = label_offset + horizon``). The model therefore
  sees everything its strongest baselines see and has to beat them with
  the rest (docs/adr/0008-model-layer.md).
- **count targets** (``count_targets``): the number of petitions and
  mediation cases over the next ``w`` periods, read from the count feature
  of the row ``w`` periods later (``pet_total_n_1w`` at s + 1 is what was
  received in s, as recorded when s + 1 starts). Totals use one period; a
  dispute family uses the shortest window the catalogue has for it.
- **horizon events** (``horizon_events``): label events per row's own
  period, so ``models.backtest.panels_by_horizon`` can relabel one panel
  for horizons 1-4.

``trim_unrecorded_tail`` guards against a panel that runs past the end of
the records (an export with late corrections, a simulator window): trailing
periods in which no area received a single petition or mediation case are
not quiet weeks but weeks nobody recorded, and their labels are unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models import baselines as bl

HISTORY = ("hist_long_run_rate", "hist_rate_hl4", "hist_rate_hl26")
HISTORY_TEXT = {
    "hist_long_run_rate": "Share of past periods with an escalation in this area",
    "hist_rate_hl4": "Recent escalation record of this area (last month or so weighted most)",
    "hist_rate_hl26": "Escalation record of this area over the last half year",
}
_COUNT = re.compile(r"^(pet|med)_([a-z_]+)_n_(\d+)([wm])$")
_SOURCES = {"pet": "petitions", "med": "mediation cases"}
_NOT_FAMILIES = {"screened", "reported"}


@dataclass(frozen=True)
class CountTarget:
    """Cases of one source (and family) over the next ``window`` periods, read from ``column``."""

    name: str
    column: str
    window: int
    description: str


def add_history(panel: pd.DataFrame, *, lag: int) -> pd.DataFrame:
    """``panel`` with the label-history features (NaN-free; rates in [0, 1])."""
    none = pd.DataFrame({"area_id": pd.Series(dtype=str), "neighbor_id": pd.Series(dtype=str)})
    values = {
        "hist_long_run_rate": bl.long_run_rate(panel, target="label", lag=lag),
        "hist_rate_hl4": bl.kernel_hotspot(panel, target="label", lag=lag, adjacency=none, half_life=4),
        "hist_rate_hl26": bl.kernel_hotspot(panel, target="label", lag=lag, adjacency=none, half_life=26),
    }
    return panel.assign(**{name: np.asarray(v, np.float64) for name, v in values.items()})


def _period_unit(panel: pd.DataFrame) -> str:
    return "m" if any(_COUNT.match(c) and c.endswith("m") for c in panel.columns) else "w"


def _silent_tail(panel: pd.DataFrame) -> pd.Series:
    """Per period: True for the trailing run of periods in which no area received anything."""
    unit = _period_unit(panel)
    columns = [c for c in (f"pet_total_n_1{unit}", f"med_total_n_1{unit}") if c in panel.columns]
    if not columns:
        return pd.Series(False, index=pd.DatetimeIndex(panel["period_start"].unique()).sort_values())
    received = panel.groupby("period_start", observed=True)[columns].sum().sum(axis=1)  # received in the period before
    activity = received.shift(-1).fillna(0)  # what was received during each period (the last: unknown)
    return activity.iloc[::-1].eq(0).cummin().iloc[::-1]


def latest_recorded_period(panel: pd.DataFrame) -> pd.Timestamp:
    """The period to score by default: the latest, or the first of a silent tail (its features are complete)."""
    silent = _silent_tail(panel)
    if silent.all() or not silent.any():
        return pd.Timestamp(panel["period_start"].max())
    return pd.Timestamp(silent[silent].index.min())


def trim_unrecorded_tail(panel: pd.DataFrame) -> pd.DataFrame:
    """Set the label to NaN for trailing periods in which nothing at all was recorded."""
    dead = _silent_tail(panel)
    if not dead.any() or dead.all():
        return panel
    out = panel.copy()
    out.loc[out["period_start"].isin(dead[dead].index), "label"] = np.nan
    return out


def catalogue_targets(panel: pd.DataFrame, *, families: bool = False) -> list[CountTarget]:
    """Totals for the next period (and, with ``families``, each dispute family at its shortest window)."""
    unit = _period_unit(panel)
    shortest: dict[tuple[str, str], int] = {}
    for column in panel.columns:
        match = _COUNT.match(column)
        if match and match.group(4) == unit and match.group(2) not in _NOT_FAMILIES:
            key, window = (match.group(1), match.group(2)), int(match.group(3))
            shortest[key] = min(window, shortest.get(key, window))
    out = []
    for (source, family), window in sorted(shortest.items(), key=lambda kv: (kv[0][1] != "total", kv[0])):
        if (family == "total" and window != 1) or (family != "total" and not families):
            continue
        span = "the next period" if window == 1 else f"the next {window} periods"
        what = _SOURCES[source] if family == "total" else f"{_SOURCES[source]} of {family.replace('_', ' ')}"
        out.append(CountTarget(name=f"{_SOURCES[source].split()[0]}" + ("" if family == "total" else f":{family}"),
                               column=f"{source}_{family}_n_{window}{unit}", window=window,
                               description=f"{what} in {span}"))
    return out


def count_targets(panel: pd.DataFrame, targets: list[CountTarget]) -> pd.DataFrame:
    """One column per target: the count over the row's next ``window`` periods (NaN where not yet known)."""
    grid_pos = bl.period_positions(panel["period_start"])
    area = pd.factorize(panel["area_id"].astype(str))[0]
    key = pd.Series(np.arange(len(panel)), index=pd.MultiIndex.from_arrays([area, grid_pos]))
    out = {}
    for target in targets:
        later = key.reindex(pd.MultiIndex.from_arrays([area, grid_pos + target.window])).to_numpy()
        values = panel[target.column].to_numpy(np.float64)
        out[target.name] = np.where(np.isnan(later), np.nan, values[np.nan_to_num(later).astype(int)])
    return pd.DataFrame(out, index=panel.index)


def horizon_events(panel: pd.DataFrame, *, horizon: int, label_offset: int) -> pd.Series:
    """Label events in each row's own period, recovered from a one-period label (NaN where unknown).

    With a one-period label, the label of row s is "an event in period
    s + label_offset", so the event of period p is the label of row
    p - label_offset. Longer panel horizons cannot be unpicked this way.
    """
    if horizon != 1:
        raise ValueError("horizon events need the panel of a one-period label (settings label.horizon = 1)")
    pos = bl.period_positions(panel["period_start"])
    area = pd.factorize(panel["area_id"].astype(str))[0]
    label = pd.Series(panel["label"].to_numpy(float), index=pd.MultiIndex.from_arrays([area, pos]))
    return pd.Series(label.reindex(pd.MultiIndex.from_arrays([area, pos - label_offset])).to_numpy(), index=panel.index)


def family_shares(frame: pd.DataFrame, *, source: str, prior: float = 5.0) -> dict[str, np.ndarray]:
    """Each area's share of ``source`` cases by dispute family over the medium window, shrunk to the city's.

    Used to split an expected total into families (models/escalation.py):
    one boosted model per family would cost 26 more boosters for counts
    that are mostly 0 or 1 per period.
    """
    unit = _period_unit(frame)
    columns = {}
    for column in frame.columns:
        match = _COUNT.match(column)
        if match and match.group(1) == source and match.group(4) == unit and match.group(2) not in _NOT_FAMILIES | {"total"}:
            if match.group(2) not in columns or int(match.group(3)) > int(_COUNT.match(columns[match.group(2)]).group(3)):
                columns[match.group(2)] = column
    if not columns:
        return {}
    counts = {family: np.nan_to_num(frame[column].to_numpy(np.float64)) for family, column in columns.items()}
    total = sum(counts.values())
    city = {family: values.sum() / max(total.sum(), 1.0) for family, values in counts.items()}
    return {family: (values + prior * city[family]) / (total + prior) for family, values in counts.items()}
