"""The push slice: the `etsy_push` asset and its check, the `push_changes` job and the two sensors.

`settings.push_automation` decides whether the sensors start RUNNING (the default) on a fresh instance; the
deployment's `Automation` may name either one as starting stopped.
"""

import dagster as dg

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.push.assets import etsy_push, push_outbox_needs_nobody
from etsy_pipeline.defs.push.sensors import build_sensors
from etsy_pipeline.settings import Settings


def build_defs(settings: Settings, automation: Automation | None = None) -> dg.Definitions:
    job = dg.define_asset_job(
        "push_changes",
        selection=dg.AssetSelection.assets(etsy_push),
        description="Push one shop's due local changes to Etsy (launched by the push sensors).",
    )
    return dg.Definitions(
        assets=[etsy_push],
        asset_checks=[push_outbox_needs_nobody],
        jobs=[job],
        sensors=build_sensors(job.name, settings.push_automation, automation),
    )
