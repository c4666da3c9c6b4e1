"""The ingest slice's definitions."""

import dagster as dg

from etsy_pipeline.defs.ingest.assets import etsy_pull
from etsy_pipeline.defs.ingest.checks import CHECKS
from etsy_pipeline.defs.ingest.jobs import etsy_shops_sensor, pull_sync, pull_sync_schedule

defs = dg.Definitions(
    assets=[etsy_pull],
    asset_checks=CHECKS,
    jobs=[pull_sync],
    schedules=[pull_sync_schedule],
    sensors=[etsy_shops_sensor],
)
