"""Incremental builds recompute only what new records can change, and equal a full rebuild."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.pipeline import PanelSpec, build_features, build_panel, incremental, load_panel, store
from features.labels import LabelSpec
from features.pipeline.context import FeatureContext
from tests.features.factories import D, add_cases, add_petitions, add_population, city, petition, case


def _assert_same(engine, data_dir, spec: PanelSpec) -> None:
    stored = load_panel(engine, data_dir=data_dir, period=spec.period)
    fresh = build_panel(engine, spec=spec)
    pd.testing.assert_frame_equal(stored, fresh)


def test_a_failure_leaving_a_window_is_counted_by_difference(full_engine, tmp_path) -> None:
    """A failed serious mediation counts when the case closes: a week on, the failure of a case opened long ago
    leaves the 13-week window, and the weekly build, which reads only the records a window's edge crosses, must
    read it by its closing date (the record cache's batches, not the frames of a test)."""
    engine, spec = full_engine, PanelSpec()
    add_cases(engine, [case(area="S0C1", on=D(2023, 3, 6), recorded=D(2023, 9, 13), outcome="failed",
                            dispute_type="land_demolition", closed_on=D(2023, 9, 13))])  # 14 weeks before the new week
    first = build_features(engine, spec=spec, data_dir=tmp_path)
    assert first.last_period == D(2023, 12, 11)
    add_petitions(engine, [petition(area="S1C0", on=D(2023, 12, 18), recorded=D(2023, 12, 19))])
    second = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not second.full and second.recomputed_periods == 1
    _assert_same(engine, tmp_path, spec)


@pytest.mark.parametrize("period", ["week", "month"])
def test_incremental_equals_full(full_engine, tmp_path, period: str) -> None:
    engine, spec = full_engine, PanelSpec(period=period, label=LabelSpec(horizon=2))
    first = build_features(engine, spec=spec, data_dir=tmp_path)
    assert first.full
    _assert_same(engine, tmp_path, spec)
    # a new week: new records, a late entry about last year, a correction of an old record
    add_petitions(engine, [petition(area="S0C0", on=D(2023, 12, 4), people=7),
                           petition(area="S1C1", on=D(2023, 12, 5), recorded=D(2023, 12, 8), category="medical"),
                           petition(area="S1C2", on=D(2023, 3, 1), recorded=D(2023, 12, 6), level_reached="province")])
    add_cases(engine, [case(area="S0C2", on=D(2023, 12, 5), outcome="failed", dispute_type="land_demolition",
                            closed_on=D(2023, 12, 7))])
    second = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not second.full and second.recomputed_periods < second.periods / 2
    _assert_same(engine, tmp_path, spec)
    again = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not again.full and again.recomputed_periods == 0
    _assert_same(engine, tmp_path, spec)


def test_an_event_in_a_period_the_last_build_did_not_have_is_kept(full_engine, tmp_path) -> None:
    """A case recorded with a closing date still to come fails in a later period: when the panel grows to it,
    the incremental build's label events equal a full rebuild's, though the case itself did not change."""
    engine, spec = full_engine, PanelSpec()
    add_cases(engine, [case(area="S0C1", on=D(2023, 11, 20), recorded=D(2023, 11, 22), outcome="failed",
                            dispute_type="land_demolition", closed_on=D(2023, 12, 20))])
    first = build_features(engine, spec=spec, data_dir=tmp_path)
    assert first.last_period < D(2023, 12, 18)  # the failure lies after the first build's periods
    before = store.read_events(store.latest_manifest(engine, data_dir=tmp_path, period="week"), data_dir=tmp_path)
    add_petitions(engine, [petition(area="S1C0", on=D(2023, 12, 18), recorded=D(2023, 12, 21))])
    second = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not second.full and second.last_period >= D(2023, 12, 18)
    incremental = store.read_events(store.latest_manifest(engine, data_dir=tmp_path, period="week"), data_dir=tmp_path)
    build_features(engine, spec=spec, data_dir=tmp_path, full=True)
    full = store.read_events(store.latest_manifest(engine, data_dir=tmp_path, period="week"), data_dir=tmp_path)
    np.testing.assert_array_equal(incremental, full)
    assert full[:, before.shape[1]:].sum() >= 1  # the failure, in a period the first build did not have


@pytest.mark.parametrize("period", ["week", "month"])
def test_a_new_period_counts_by_difference_from_the_last_builds_counts(full_engine, tmp_path, monkeypatch, period: str) -> None:
    """The build keeps every count at its last period; the next one reads only the records that can move a count
    from there and adds their difference. A counts file that cannot be vouched for is not used: counted in full."""
    engine, spec = full_engine, PanelSpec(period=period)
    first = build_features(engine, spec=spec, data_dir=tmp_path)
    kept = store.latest_manifest(engine, data_dir=tmp_path, period=period)["counts"]
    assert kept["period"] == str(first.last_period)
    differences: list[int] = []
    added = FeatureContext._added_to_base
    monkeypatch.setattr(FeatureContext, "_added_to_base", lambda self, *a, **kw: differences.append(1) or added(self, *a, **kw))
    # the next period: new records, a correction of an old record, a case closing in it, a late entry about last year
    add_petitions(engine, [petition(area="S0C0", on=D(2024, 1, 8), recorded=D(2024, 1, 9), people=7),
                           petition(area="S1C2", on=D(2023, 2, 1), recorded=D(2024, 1, 10), level_reached="province")])
    add_cases(engine, [case(area="S0C2", on=D(2023, 12, 5), recorded=D(2024, 1, 9), outcome="failed",
                            dispute_type="land_demolition", closed_on=D(2024, 1, 12))])
    second = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not second.full and second.last_period > first.last_period and len(differences) > 20
    _assert_same(engine, tmp_path, spec)
    manifest = store.latest_manifest(engine, data_dir=tmp_path, period=period)
    assert manifest["counts"]["period"] == str(second.last_period)
    # altered by hand: not the content its name hashes, so the next build counts its reach in full
    counts = tmp_path / store.ROOT / period / "counts" / manifest["counts"]["file"]
    np.save(counts, np.load(counts) + 1)
    differences.clear()
    add_petitions(engine, [petition(area="S1C1", on=D(2024, 3, 4), recorded=D(2024, 3, 5), category="medical")])
    third = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not third.full and not differences
    _assert_same(engine, tmp_path, spec)


def test_backdated_records_and_population_recompute_from_their_period(full_engine, tmp_path) -> None:
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    add_petitions(engine, [petition(area="S0C1", on=D(2022, 6, 1), recorded=D(2022, 6, 20), people=12)])  # a back-filled batch
    add_population(engine, [dict(area_id="S0C1", period_start=D(2022, 9, 5), residents=20_000)])
    result = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not result.full
    assert result.periods - 60 < result.recomputed_periods < result.periods
    _assert_same(engine, tmp_path, spec)


def test_a_population_change_before_the_new_records_recomputes_from_its_period(full_engine, tmp_path, monkeypatch) -> None:
    """The records are turned into frames for the records' own first change while population's fingerprints are
    read; a population row dated earlier moves the first recomputed period back, and the frames are made again."""
    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    add_petitions(engine, [petition(area="S0C1", on=D(2023, 11, 27), recorded=D(2023, 11, 28))])
    add_population(engine, [dict(area_id="S0C2", period_start=D(2023, 3, 6), residents=15_000)])
    made = []
    frames = incremental.known_frames
    monkeypatch.setattr(incremental, "known_frames", lambda *args, **kw: made.append(kw["lo"]) or frames(*args, **kw))
    result = build_features(engine, spec=spec, data_dir=tmp_path)
    lo = (D(2023, 3, 6) - result.first_period).days // 7 + 1  # the week after the population row's
    assert not result.full and result.recomputed_periods == result.periods - lo
    assert made[0] > lo and made[-1] == lo  # first the records' plan, then the population's
    _assert_same(engine, tmp_path, spec)


def test_since_forces_recomputing_and_area_changes_rebuild(full_engine, tmp_path) -> None:
    engine, spec = full_engine, PanelSpec()
    base = build_features(engine, spec=spec, data_dir=tmp_path)
    forced = build_features(engine, spec=spec, data_dir=tmp_path, since=D(2023, 6, 1))
    assert not forced.full and 20 < forced.recomputed_periods < base.periods
    _assert_same(engine, tmp_path, spec)
    from tests.features.factories import _insert
    from features.storage.tables import areas

    _insert(engine, areas, "areas", [dict(area_id="S1C9", name="new", parent_id="S1", level="community")])
    rebuilt = build_features(engine, spec=spec, data_dir=tmp_path)
    assert rebuilt.full and "areas" in rebuilt.reason
    _assert_same(engine, tmp_path, spec)


def test_label_change_rebuilds_and_load_without_build_fails(engine, tmp_path) -> None:
    city(engine)
    add_petitions(engine, [petition(area="S0C0", on=D(2023, 11, 1)), petition(area="S0C0", on=D(2024, 1, 3))])
    with pytest.raises(LookupError):
        load_panel(engine, data_dir=tmp_path)
    build_features(engine, spec=PanelSpec(), data_dir=tmp_path)
    other = build_features(engine, spec=PanelSpec(label=LabelSpec(horizon=3)), data_dir=tmp_path)
    assert other.full
    assert load_panel(engine, data_dir=tmp_path)["label"].isna().sum() == 6 * 3
