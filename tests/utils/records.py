"""Factories for record batches in the contracts of DESIGN.md, as text frames and files.

Frames hold text, as a CSV export would; ``write_records_file`` writes them
as CSV (any encoding) or Parquet. The areas form a small hierarchy
X0 → D1, D2 → C101.., so other kinds can reference them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from features.storage.tables import RECORD_TABLES, load_batches, policy_areas

CITY = "X0"


def areas_frame(*, districts: int = 2, communities: int = 3) -> pd.DataFrame:
    rows = [dict(area_id=CITY, name="测试市", parent_id="", level="city", geometry="")]
    for d in range(1, districts + 1):
        rows.append(dict(area_id=f"D{d}", name=f"第{d}区", parent_id=CITY, level="district", geometry=""))
        for c in range(1, communities + 1):
            rows.append(dict(area_id=f"C{d}{c:02d}", name=f"社区{d}-{c}", parent_id=f"D{d}", level="community",
                             geometry='{"type": "Point", "coordinates": [116.4, 39.9]}'))
    return pd.DataFrame(rows, dtype="string")


def community_ids(areas: pd.DataFrame) -> list[str]:
    return areas.loc[areas["level"] == "community", "area_id"].tolist()


def adjacency_frame(areas: pd.DataFrame) -> pd.DataFrame:
    ids = community_ids(areas)
    pairs = [(a, b) for a, b in zip(ids, ids[1:], strict=False)]
    pairs += [(b, a) for a, b in pairs]
    return pd.DataFrame(pairs, columns=["area_id", "neighbor_id"], dtype="string")


def petitions_frame(areas: pd.DataFrame, *, n: int = 12, start: dt.date = dt.date(2023, 1, 2)) -> pd.DataFrame:
    ids = community_ids(areas)
    rows = []
    for i in range(n):
        received = start + dt.timedelta(days=3 * i)
        rows.append(dict(
            petition_id=f"P{i:05d}", area_id=ids[i % len(ids)], received_on=received.isoformat(),
            category=("labour_wages", "land_demolition", "neighbour_rights")[i % 3],
            channel=("visit", "letter", "phone", "online")[i % 4], people=str(1 + i % 7),
            level_reached=("street", "county", "city")[i % 3], is_repeat=("false", "true")[i % 2],
            status="closed" if i % 2 else "open",
            closed_on=(received + dt.timedelta(days=10)).isoformat() if i % 2 else "",
            satisfied=("yes" if i % 4 == 1 else "no") if i % 2 else "",
        ))
    return pd.DataFrame(rows, dtype="string")


def mediation_frame(areas: pd.DataFrame, *, n: int = 10, start: dt.date = dt.date(2023, 1, 3)) -> pd.DataFrame:
    ids = community_ids(areas)
    rows = []
    for i in range(n):
        opened = start + dt.timedelta(days=4 * i)
        rows.append(dict(
            case_id=f"M{i:05d}", area_id=ids[i % len(ids)], opened_on=opened.isoformat(),
            dispute_type=("marriage_family", "private_lending")[i % 2],
            closed_on=(opened + dt.timedelta(days=7)).isoformat(), outcome=("agreement", "failed", "referred")[i % 3],
            parties=str(2 + i % 4), amount=f"{1000.5 * i:.1f}", origin=("reported", "screened")[i % 2],
        ))
    return pd.DataFrame(rows, dtype="string")


def population_frame(areas: pd.DataFrame, *, periods: int = 2) -> pd.DataFrame:
    rows = []
    for p in range(periods):
        for i, area_id in enumerate(community_ids(areas)):
            rows.append(dict(
                area_id=area_id, period_start=dt.date(2022 + p, 1, 1).isoformat(), residents=str(12000 + 100 * i),
                registered=str(9000 + i), migrants=str(3000 + i), elderly_share="0.18", low_income_households="120",
                rental_share="0.25", unemployed="300",
            ))
    return pd.DataFrame(rows, dtype="string")


def policies_frame(areas: pd.DataFrame) -> pd.DataFrame:
    ids = community_ids(areas)
    rows = [
        dict(policy_id="POL1", type="land_requisition", areas=f"{ids[0]};{ids[1]}", announced_on="2023-02-01",
             effective_on="2023-05-01", households_affected="350", compensation_ratio="0.8", hearing_held="是",
             description="北区征地"),
        dict(policy_id="POL2", type="wage_pension", areas=ids[-1], announced_on="2023-03-01",
             effective_on="2023-03-15", households_affected="", compensation_ratio="", hearing_held="no",
             description=""),
    ]
    return pd.DataFrame(rows, dtype="string")


def frames_by_kind() -> dict[str, pd.DataFrame]:
    """One valid batch of every kind, in loading order (areas first)."""
    areas = areas_frame()
    return {
        "areas": areas, "adjacency": adjacency_frame(areas), "petitions": petitions_frame(areas),
        "mediation": mediation_frame(areas), "population": population_frame(areas), "policies": policies_frame(areas),
    }


def write_records_file(frame: pd.DataFrame, path: Path, *, encoding: str = "utf-8") -> Path:
    """Write ``frame`` as Parquet (``.parquet``) or CSV in ``encoding``; blank cells stay blank."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, encoding=encoding)
    return path


def stored_counts(engine: Engine) -> dict[str, int]:
    """Row counts of every record table, policy_areas and load_batches: "nothing written" is equality."""
    tables = [*RECORD_TABLES.values(), policy_areas, load_batches]
    with engine.connect() as connection:
        return {
            table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in tables
        }
