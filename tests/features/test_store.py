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
