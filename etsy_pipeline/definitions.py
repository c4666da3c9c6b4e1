"""The Dagster code location: one Definitions assembled from the slices under `defs/`.

The slices are imported as modules: Dagster refuses a code location with more than one Definitions object at
module scope. A new slice adds one import and one line to the merge.
"""

from __future__ import annotations

import dagster as dg

from etsy_pipeline.defs.analytics import definitions as analytics
from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.ingest import definitions as ingest
from etsy_pipeline.defs.ops import definitions as ops
from etsy_pipeline.defs.push import definitions as push
from etsy_pipeline.defs.resources import shared_resources
from etsy_pipeline.settings import Settings, get_settings


def build_defs(settings: Settings, automation: Automation) -> dg.Definitions:
    """Slices take what they need as arguments and read nothing themselves.

    Steps run in the run's own process: a run is one shop's pull or one range of days, and its checks are single
    SQL queries, so a process per step (Dagster's default) cost more in imports than the work itself (a tiny
    pull run with its checks: about 35 s against 7 s on two cores).
    """
    return dg.Definitions.merge(
        ingest.build_defs(automation),
        analytics.build_defs(settings, automation),
        ops.build_defs(automation),
        push.build_defs(settings, automation),
        dg.Definitions(resources=shared_resources(), executor=dg.in_process_executor),
    )


# The composition root reads the settings once: the analytics partitions start on ANALYTICS_START_DATE in
# ANALYTICS_TIMEZONE, and every schedule and sensor starts RUNNING unless AUTOMATION_STOPPED names it.
_settings = get_settings()
defs = build_defs(_settings, Automation.parse(_settings.automation_stopped))
