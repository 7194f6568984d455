"""A realistic simulated city with known truth, for the demo, the tests and every benchmark.

Real mediation and petition records cannot be shared, so Concord runs on
simulated ones until a deployment. The city is built from mechanisms that
each live in one module (see docs/simulator.md):

- ``config``: every parameter, with the reason for its value;
- ``geography``: hierarchy city → district → street → community, polygons, adjacency;
- ``population``: weekly population, migration, ageing, factory closures;
- ``tension``: hidden AR(1) tension, seasonality, drivers, spill-over, self-excitation;
- ``policies``: major decisions and their true effect;
- ``events`` / ``mediation``: petitions and mediation cases, backlog and outcomes;
- ``recording``: late entry and corrections;
- ``messiness``: the dirt of ``--messy``;
- ``writer`` / ``run`` / ``entry``: streaming output, the weekly loop, the entry points.

It depends only on numpy, pandas, pyarrow and ``features.contracts`` /
``features.calendar``.
"""

from features.simulation.entry import FILES, SimulationSummary, simulate, simulate_frames
from features.simulation.config import FAMILIES, SimulationConfig

__all__ = ["FAMILIES", "FILES", "SimulationConfig", "SimulationSummary", "simulate", "simulate_frames"]
