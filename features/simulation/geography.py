"""The city's area hierarchy, its community polygons and their adjacency.

Communities are the cells of a jittered lattice: lattice vertices are shared
by the (up to) four cells around them and moved a little at random, so every
community is a quadrilateral that touches its neighbours exactly (a true
tessellation, no gaps). Cells are about 1.5 km across (2-3 km², DESIGN.md).
Streets are 3 x 3 blocks of cells (about 9 communities) and districts
12 x 12 blocks (about 16 streets); the city is the root. Adjacency is rook
contiguity (a shared edge), listed in both directions.

Parameters: ``CELL_DEG`` (cell size in degrees), ``ORIGIN`` (south-west
corner, near Nantong), ``JITTER`` (vertex displacement, share of a cell),
``STREET_BLOCK`` and ``DISTRICT_BLOCK`` (cells per side).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

CELL_DEG = (0.016, 0.0135)  # lon, lat: about 1.5 km x 1.5 km at 32°N
ORIGIN = (120.60, 31.80)
JITTER = 0.2
STREET_BLOCK = 3
DISTRICT_BLOCK = 12

# Syllables for names, with their pinyin (no tones): fixed so names are reproducible.
_SYLLABLES: dict[str, str] = {
    "和": "he", "平": "ping", "新": "xin", "华": "hua", "东": "dong", "风": "feng", "幸": "xing",
    "福": "fu", "光": "guang", "明": "ming", "安": "an", "康": "kang", "永": "yong", "兴": "xing",
    "长": "chang", "江": "jiang", "南": "nan", "北": "bei", "西": "xi", "城": "cheng", "桥": "qiao",
    "河": "he", "湖": "hu", "山": "shan", "春": "chun", "秋": "qiu", "阳": "yang", "文": "wen",
    "德": "de", "民": "min", "丰": "feng", "盛": "sheng", "金": "jin", "银": "yin", "松": "song",
    "柳": "liu", "桃": "tao", "园": "yuan", "泰": "tai", "宁": "ning", "祥": "xiang", "瑞": "rui",
    "崇": "chong", "川": "chuan", "通": "tong", "海": "hai", "港": "gang", "紫": "zi", "青": "qing",
    "龙": "long", "凤": "feng", "鹤": "he", "云": "yun", "石": "shi",
}
_CHARS = np.array([c for c in _SYLLABLES if len(c) == 1])
_LEVEL_SUFFIX = {"district": ("区", "Qu"), "street": ("街道", "Jiedao"), "community": ("社区", "Shequ")}


@dataclass(frozen=True)
class City:
    """The geography every other module reads (arrays indexed by community position)."""

    community_ids: np.ndarray  # str, "Q000001", ...
    street_of: np.ndarray  # int street index of each community
    district_of_street: np.ndarray  # int district index of each street
    areas: pa.Table  # the areas file
    edges_src: np.ndarray  # int32 adjacency, both directions, sorted by source
    edges_dst: np.ndarray
    polygons: np.ndarray  # float (n, 5, 2) closed rings, lon/lat

    @property
    def n(self) -> int:
        return len(self.community_ids)

    @property
    def degree(self) -> np.ndarray:
        return np.bincount(self.edges_src, minlength=self.n)

    def adjacency_table(self) -> pa.Table:
        ids = self.community_ids
        return pa.table({"area_id": ids[self.edges_src], "neighbor_id": ids[self.edges_dst]})

    def neighbour_mean(self, values: np.ndarray) -> np.ndarray:
        """Mean over each community's neighbours of ``values`` (n,) or (n, k); 0 without neighbours."""
        gathered = values[self.edges_dst]
        starts = np.searchsorted(self.edges_src, np.arange(self.n))
        has = self.degree > 0
        sums = np.zeros_like(values, dtype=np.float64)
        if gathered.size:
            reduced = np.add.reduceat(gathered, starts[has], axis=0)
            sums[has] = reduced
        deg = np.maximum(self.degree, 1)
        return sums / (deg if values.ndim == 1 else deg[:, None])


def _names(rng: np.random.Generator, count: int, level: str) -> tuple[np.ndarray, np.ndarray]:
    """Two-syllable Chinese names with the level's suffix, and their pinyin."""
    picks = rng.integers(0, len(_CHARS), size=(count, 2))
    suffix, suffix_py = _LEVEL_SUFFIX[level]
    names, pinyin = [], []
    seen: dict[str, int] = {}
    for a, b in picks:
        base = _CHARS[a] + _CHARS[b]
        seen[base] = seen.get(base, 0) + 1
        ordinal = "" if seen[base] == 1 else str(seen[base])
        names.append(f"{base}{ordinal}{suffix}")
        py = (_SYLLABLES[_CHARS[a]] + _SYLLABLES[_CHARS[b]]).capitalize()
        pinyin.append(f"{py}{ordinal} {suffix_py}")
    return np.array(names, dtype=object), np.array(pinyin, dtype=object)


def _ring_json(ring: np.ndarray) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[round(float(x), 6), round(float(y), 6)] for x, y in ring]]},
                      separators=(",", ":"))


def build_city(n: int, rng: np.random.Generator) -> City:
    """Lay ``n`` communities on a jittered lattice and group them into streets and districts."""
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    pos = np.arange(n)
    r, c = pos // cols, pos % cols

    # Shared, jittered lattice vertices: (rows + 1) x (cols + 1).
    vx = np.arange(cols + 1)[None, :] + rng.uniform(-JITTER, JITTER, size=(rows + 1, cols + 1))
    vy = np.arange(rows + 1)[:, None] + rng.uniform(-JITTER, JITTER, size=(rows + 1, cols + 1))
    corners = [(r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c), (r, c)]
    polygons = np.stack(
        [np.stack([ORIGIN[0] + vx[i, j] * CELL_DEG[0], ORIGIN[1] + vy[i, j] * CELL_DEG[1]], axis=1) for i, j in corners],
        axis=1,
    )

    # Rook adjacency, both directions, sorted by source.
    right = pos[(c + 1 < cols) & (pos + 1 < n)]
    up = pos[pos + cols < n]
    src = np.concatenate([right, right + 1, up, up + cols])
    dst = np.concatenate([right + 1, right, up + cols, up])
    order = np.lexsort((dst, src))
    src, dst = src[order].astype(np.int32), dst[order].astype(np.int32)

    street_key = (r // STREET_BLOCK) * (cols // STREET_BLOCK + 1) + c // STREET_BLOCK
    street_keys, street_of = np.unique(street_key, return_inverse=True)
    district_key = (r // DISTRICT_BLOCK) * (cols // DISTRICT_BLOCK + 1) + c // DISTRICT_BLOCK
    first_of_street = np.unique(street_of, return_index=True)[1]
    district_keys, district_of_street = np.unique(district_key[first_of_street], return_inverse=True)

    width = max(6, len(str(n)))
    community_ids = np.array([f"Q{i + 1:0{width}d}" for i in range(n)], dtype=object)
    street_ids = np.array([f"S{i + 1:05d}" for i in range(len(street_keys))], dtype=object)
    district_ids = np.array([f"D{i + 1:03d}" for i in range(len(district_keys))], dtype=object)
    d_names, d_py = _names(rng, len(district_ids), "district")
    s_names, s_py = _names(rng, len(street_ids), "street")
    q_names, q_py = _names(rng, n, "community")

    empty = np.full
    areas = pa.table({
        "area_id": np.concatenate([["C0"], district_ids, street_ids, community_ids]).astype(str),
        "name": np.concatenate([["通州市"], d_names, s_names, q_names]).astype(str),
        "parent_id": pa.array(
            [None] + ["C0"] * len(district_ids) + list(district_ids[district_of_street]) + list(street_ids[street_of]),
            type=pa.string(),
        ),
        "level": np.concatenate([["city"], empty(len(district_ids), "district"), empty(len(street_ids), "street"),
                                 empty(n, "community")]).astype(str),
        "name_pinyin": np.concatenate([["Tongzhou Shi"], d_py, s_py, q_py]).astype(str),
        "geometry": pa.array([None] * (1 + len(district_ids) + len(street_ids)) + [_ring_json(p) for p in polygons],
                             type=pa.string()),
    })
    return City(community_ids, street_of.astype(np.int32), district_of_street.astype(np.int32), areas, src, dst, polygons)


def write_geojson(city: City, path: Path) -> None:
    """areas.geojson: one Polygon feature per community, streamed feature by feature."""
    names = city.areas.column("name").to_numpy(zero_copy_only=False)[-city.n:]
    parents = city.areas.column("parent_id").to_numpy(zero_copy_only=False)[-city.n:]
    geoms = city.areas.column("geometry").to_numpy(zero_copy_only=False)[-city.n:]
    with path.open("w", encoding="utf-8", newline="\n") as out:
        out.write('{"type":"FeatureCollection","features":[\n')
        for i in range(city.n):
            props = json.dumps({"area_id": city.community_ids[i], "name": names[i], "parent_id": parents[i],
                                "level": "community"}, ensure_ascii=False, separators=(",", ":"))
            out.write(f'{{"type":"Feature","properties":{props},"geometry":{geoms[i]}}}')
            out.write(",\n" if i < city.n - 1 else "\n")
        out.write("]}\n")
