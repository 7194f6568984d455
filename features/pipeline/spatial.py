"""Neighbours' recent activity: spatial lags over the adjacency and over the parent area.

Disputes spill over (a relocation protest draws people from next door), so
an area's risk depends on its surroundings. Both lags are means of a count
feature as known at the same period, so they inherit its point-in-time
correctness. The parent lag averages the *other* areas under the same
parent (street, township), leaving the area's own records to its own
features.
"""

from __future__ import annotations

import numpy as np

from features.catalogue import FeatureSpec
from features.pipeline.context import FeatureContext


def neighbours(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    graph = ctx.grid.neighbours
    degree = np.asarray(graph.sum(axis=1)).ravel()
    values = ctx.feature(spec.key[1]).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (graph @ values) / degree[:, None]
    return np.where(degree[:, None] > 0, out, np.nan).astype(np.float32)


def parent(ctx: FeatureContext, spec: FeatureSpec) -> np.ndarray:
    codes = ctx.grid.parent
    values = ctx.feature(spec.key[1]).astype(np.float64)
    has = codes >= 0
    n_parents = int(codes.max()) + 1 if has.any() else 0
    sums = np.zeros((n_parents, values.shape[1]))
    np.add.at(sums, codes[has], values[has])
    children = np.bincount(codes[has], minlength=n_parents)
    out = np.full(values.shape, np.nan)
    others = np.zeros(len(codes), dtype=np.int64)
    others[has] = children[codes[has]] - 1
    ok = others > 0
    out[ok] = (sums[codes[ok]] - values[ok]) / others[ok, None]
    return out.astype(np.float32)


HANDLERS = {"nbr": neighbours, "par": parent}
