"""Dagster wiring only: each sub-package turns plain functions into assets, jobs, schedules and sensors."""
