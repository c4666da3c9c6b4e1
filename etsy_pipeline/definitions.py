"""The Dagster code location: one Definitions assembled from the slices under `defs/`."""

from __future__ import annotations

import dagster as dg

from etsy_pipeline.defs.ingest.definitions import defs as ingest_defs
from etsy_pipeline.defs.ops.definitions import defs as ops_defs
from etsy_pipeline.defs.resources import shared_resources

defs = dg.Definitions.merge(ingest_defs, ops_defs, dg.Definitions(resources=shared_resources()))
