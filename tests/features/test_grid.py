"""The panel grid walks the area tree with arrays (``grid.make_grid``); here it is checked against walking it
area by area, the obvious way, on random trees: which level is the panel, how deeper areas roll up, each
panel area's parent, which panel areas lie under each higher area, and the adjacency between panel areas."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from features.pipeline.grid import make_grid

FIRST, LAST = pd.Timestamp("2024-01-01"), pd.Timestamp("2024-03-25")  # Mondays


@st.composite
def _tree(draw) -> pd.DataFrame:
    """A hierarchy of up to five levels, each area's parent drawn among the areas one level up, in shuffled row order."""
    rows = [("R", None)]
    levels = [["R"]]
    for depth in range(1, draw(st.integers(1, 4)) + 1):
        count = draw(st.integers(1, 6))
        names = [f"L{depth}_{i}" for i in range(count)]
        rows += [(name, draw(st.sampled_from(levels[-1]))) for name in names]
        levels.append(names)
    order = draw(st.permutations(range(len(rows))))
    frame = pd.DataFrame([rows[i] for i in order], columns=["area_id", "parent_id"])
    frame["level"] = "x"
    return frame


def _reference(areas: pd.DataFrame, adjacency: pd.DataFrame, record_areas: list[str]) -> dict:
    """The grid's contents, area by area in Python."""
    parent = dict(zip(areas["area_id"], areas["parent_id"]))

    def depth(area: str) -> int:
        return 0 if parent[area] is None else 1 + depth(parent[area])

    depths = {area: depth(area) for area in parent}
    with_records = [depths[a] for a in record_areas if a in depths]
    level = max(with_records) if with_records else max(depths.values())
    panel = sorted(a for a, d in depths.items() if d == level)
    rollup = {a: i for i, a in enumerate(panel)}
    for area, d in depths.items():
        node = area
        while d > level and node not in panel:
            node = parent[node]
        if d > level:
            rollup[area] = panel.index(node)
    below: dict[str, list[int]] = {}
    for code, area in enumerate(panel):
        node = parent[area]
        while node is not None:
            below.setdefault(node, []).append(code)
            node = parent[node]
    first_seen = list(dict.fromkeys(parent[a] for a in panel if parent[a] is not None))
    parents = [-1 if parent[a] is None else first_seen.index(parent[a]) for a in panel]
    edges = {(rollup[a], rollup[b]) for a, b in zip(adjacency["area_id"], adjacency["neighbor_id"])
             if a in rollup and b in rollup and rollup[a] != rollup[b]}
    dense = np.zeros((len(panel), len(panel)))
    for a, b in edges:
        dense[a, b] = dense[b, a] = 1
    return {"panel": panel, "rollup": rollup, "below": below, "parent": parents, "neighbours": dense}


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_grid_is_the_tree_walked_area_by_area(data) -> None:
    areas = data.draw(_tree())
    ids = areas["area_id"].tolist()
    record_areas = data.draw(st.lists(st.sampled_from(ids + ["elsewhere"]), max_size=6))
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(ids + ["elsewhere"]), st.sampled_from(ids)), max_size=12))
    adjacency = pd.DataFrame(pairs, columns=["area_id", "neighbor_id"], dtype=object)
    grid = make_grid(areas=areas, adjacency=adjacency, record_areas=pd.Series(record_areas, dtype=object),
                     first=FIRST, last=LAST, period="week", week_start="monday")
    want = _reference(areas, adjacency, record_areas)
    assert grid.area_ids.tolist() == want["panel"]
    assert grid.rollup == want["rollup"]
    assert {area: codes.tolist() for area, codes in grid.below.items()} == want["below"]
    assert grid.parent.tolist() == want["parent"]
    np.testing.assert_array_equal(grid.neighbours.toarray(), want["neighbours"])
    assert len(grid.periods) == 13
