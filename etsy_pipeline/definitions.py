"""The Dagster code location: one Definitions assembled from the slices under `defs/`."""

from __future__ import annotations

import dagster as dg

from etsy_pipeline.defs.analytics.definitions import build_defs as build_analytics_defs
from etsy_pipeline.defs.ingest.definitions import defs as ingest_defs
from etsy_pipeline.defs.ops.definitions import defs as ops_defs
from etsy_pipeline.defs.resources import shared_resources
from etsy_pipeline.settings import get_settings

# The composition root reads the settings once: the analytics partitions start on ANALYTICS_START_DATE in
# ANALYTICS_TIMEZONE. Modules under defs/ take them as arguments and read nothing themselves.
defs = dg.Definitions.merge(
    ingest_defs, build_analytics_defs(get_settings()), ops_defs, dg.Definitions(resources=shared_resources())
)
