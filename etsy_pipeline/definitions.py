"""The Dagster code location: one Definitions assembled from the slices under `defs/`.

The slices are imported as modules: Dagster refuses a code location with more than one Definitions object at
module scope.
"""

from __future__ import annotations

import dagster as dg

from etsy_pipeline.defs.analytics import definitions as analytics
from etsy_pipeline.defs.ingest import definitions as ingest
from etsy_pipeline.defs.ops import definitions as ops
from etsy_pipeline.defs.resources import shared_resources
from etsy_pipeline.settings import get_settings

# The composition root reads the settings once: the analytics partitions start on ANALYTICS_START_DATE in
# ANALYTICS_TIMEZONE. Modules under defs/ take them as arguments and read nothing themselves.
defs = dg.Definitions.merge(
    ingest.defs, analytics.build_defs(get_settings()), ops.defs, dg.Definitions(resources=shared_resources())
)
