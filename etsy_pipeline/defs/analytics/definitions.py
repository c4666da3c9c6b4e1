"""The analytics slice's definitions, built from settings (start date, time zone) and the deployment's `Automation`."""

import dagster as dg

from etsy_pipeline.defs.analytics.assets import build_assets
from etsy_pipeline.defs.analytics.automation import build_automation
from etsy_pipeline.defs.analytics.checks import CHECKS
from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.settings import Settings


def build_defs(settings: Settings, automation: Automation) -> dg.Definitions:
    partitions = dg.DailyPartitionsDefinition(
        start_date=settings.analytics_start_date.isoformat(), timezone=settings.analytics_timezone
    )
    assets = build_assets(partitions)
    job = dg.define_asset_job("analytics_daily", selection=dg.AssetSelection.assets(*assets))
    nightly, after_sync = build_automation(job, partitions, automation)
    return dg.Definitions(assets=assets, asset_checks=CHECKS, jobs=[job], schedules=[nightly], sensors=[after_sync])
