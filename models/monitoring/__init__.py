"""Scheduled monitoring and retraining: drift reports, champion/challenger retraining, the job trail.

Plain library code: every threshold, folder and source arrives as an
argument (``DriftConfig``, ``RetrainConfig``), built from settings by
``api.cli``. See docs/monitoring.md and docs/adr/0009-retraining-and-drift.md.
"""
