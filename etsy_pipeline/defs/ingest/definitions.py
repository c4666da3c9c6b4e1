"""The ingest slice's definitions; whether its schedule and sensor start running is the deployment's choice."""

import dagster as dg

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.ingest.assets import etsy_pull
from etsy_pipeline.defs.ingest.checks import CHECKS
from etsy_pipeline.defs.ingest.jobs import build_pull_schedule, build_shops_sensor, pull_sync


def build_defs(automation: Automation) -> dg.Definitions:
    return dg.Definitions(
        assets=[etsy_pull],
        asset_checks=CHECKS,
        jobs=[pull_sync],
        schedules=[build_pull_schedule(automation)],
        sensors=[build_shops_sensor(automation)],
    )
