"""What rebuilds analytics by itself: yesterday every night, and the days a pull sync touched.

Both start RUNNING unless the deployment's `Automation` keeps them stopped.
"""

from datetime import date

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.sync.touched import touched_since

NIGHTLY = "analytics_nightly"
AFTER_SYNC = "analytics_after_sync"


def build_automation(
    job: UnresolvedAssetJobDefinition, partitions: dg.DailyPartitionsDefinition, automation: Automation
) -> tuple[dg.ScheduleDefinition, dg.SensorDefinition]:
    nightly = dg.build_schedule_from_partitioned_job(
        job, name=NIGHTLY, hour_of_day=2, minute_of_hour=0, default_status=automation.schedule(NIGHTLY)
    )
    return nightly, _touched_days_sensor(job, partitions, automation.sensor(AFTER_SYNC))  # type: ignore[return-value]


def _touched_days_sensor(
    job: UnresolvedAssetJobDefinition, partitions: dg.DailyPartitionsDefinition, status: dg.DefaultSensorStatus
) -> dg.SensorDefinition:
    @dg.sensor(job=job, name=AFTER_SYNC, minimum_interval_seconds=60, default_status=status)
    def analytics_after_sync(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SensorResult:
        """After each finished sync, rebuild the days whose orders it changed (late refunds included)."""
        with storage.open() as runtime, runtime.db.session() as session:
            touched = touched_since(session, int(context.cursor or 0))
        first, newest = partitions.start.date(), touched.newest_run_id
        days = sorted(d for d in touched.days if first <= d < date.today())  # today's partition opens tomorrow
        requests = [dg.RunRequest(run_key=f"{d}:{newest}", partition_key=d.isoformat()) for d in days]
        return dg.SensorResult(run_requests=requests, cursor=str(newest))

    return analytics_after_sync
