"""The stored panel: Arrow IPC parts written in the background, older Parquet parts still readable (docs/adr/0014)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.pipeline import PanelSpec, build_features, load_panel, store


def test_parts_are_arrow_and_older_parquet_parts_still_load(full_engine, tmp_path) -> None:
    engine = full_engine
    build_features(engine, spec=PanelSpec(), data_dir=tmp_path)
    manifest = store.latest_manifest(engine, data_dir=tmp_path, period="week")
    folder = tmp_path / store.ROOT / "week" / "parts"
    assert all(name.endswith(".arrow") for name in manifest["parts"].values())
    assert {path.name for path in folder.iterdir()} == set(manifest["parts"].values())  # no temporary files left
    expected = store.read_features(manifest, data_dir=tmp_path)
    for day in sorted(manifest["parts"])[::3]:  # as builds before ADR 0014 wrote them: pandas → Parquet (zstd)
        frame = store.read_part(folder / manifest["parts"][day]).to_pandas()
        frame["area_id"] = pd.Categorical(frame["area_id"].astype(str), categories=manifest["areas"])
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), folder / f"{day}-old.parquet", compression="zstd",
                       use_dictionary=["area_id", "period_start"])
        manifest["parts"][day] = f"{day}-old.parquet"
    pd.testing.assert_frame_equal(store.read_features(manifest, data_dir=tmp_path), expected)
    assert len(load_panel(engine, data_dir=tmp_path)) == len(expected)


def test_part_schema_is_what_pandas_gives(full_engine, tmp_path) -> None:
    build_features(full_engine, spec=PanelSpec(), data_dir=tmp_path)
    manifest = store.latest_manifest(full_engine, data_dir=tmp_path, period="week")
    part = tmp_path / store.ROOT / "week" / "parts" / next(iter(manifest["parts"].values()))
    stored = pa.ipc.open_file(pa.memory_map(str(part))).schema
    assert stored.equals(store.part_schema(manifest["areas"], manifest["columns"]), check_metadata=True)
    assert stored.field("period_start").type == pa.timestamp("ns")
    assert all(stored.field(name).type == pa.float32() for name in manifest["columns"])


def test_a_weekly_build_writes_its_part_with_the_stored_schema_byte_for_byte(full_engine, tmp_path) -> None:
    """An incremental build takes the schema of the last build's latest part instead of making it again: the part it
    writes is the very file (same content hash) a full rebuild writes for that period."""
    from tests.features.factories import D, add_petitions, petition

    engine, spec = full_engine, PanelSpec()
    build_features(engine, spec=spec, data_dir=tmp_path)
    before = store.latest_manifest(engine, data_dir=tmp_path, period="week")
    assert store.stored_part_schema(before, data_dir=tmp_path, names=before["columns"][:-1]) is None  # other columns
    add_petitions(engine, [petition(area="S0C1", on=D(2023, 12, 18), recorded=D(2023, 12, 19), people=9)])
    weekly = build_features(engine, spec=spec, data_dir=tmp_path)
    assert not weekly.full and weekly.recomputed_periods == 1
    incremental = store.latest_manifest(engine, data_dir=tmp_path, period="week")["parts"]
    build_features(engine, spec=spec, data_dir=tmp_path, full=True)
    assert store.latest_manifest(engine, data_dir=tmp_path, period="week")["parts"] == incremental
