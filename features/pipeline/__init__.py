"""Feature pipelines: point-in-time correct area × period panels, built in full or incrementally.

The seam the models call: ``build_panel`` (in memory), ``build_features``
(incremental, stored as Parquet with a ``feature_builds`` row),
``load_panel`` (the latest stored build) and ``feature_columns``. See
docs/features.md and docs/adr/0005-point-in-time-features.md.
"""

from features.labels import LabelSpec
from features.pipeline.assemble import build_panel
from features.pipeline.incremental import BuildResult, build_features
from features.pipeline.spec import INDEX, LABEL, PanelSpec, check_panel, feature_columns
from features.pipeline.store import load_panel

__all__ = ["INDEX", "LABEL", "BuildResult", "LabelSpec", "PanelSpec", "build_features", "build_panel",
           "check_panel", "feature_columns", "load_panel"]
