"""What rebuilds analytics by itself: yesterday every night, and the days a pull sync touched.

Both start RUNNING unless the deployment's `Automation` keeps them stopped.
"""

from datetime import date

import dagster as dg
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition
from sqlalchemy import select

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.storage.models import SyncRun

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
        last_seen = int(context.cursor or 0)
        with storage.open() as runtime, runtime.db.session() as session:
            runs = session.execute(
                select(SyncRun.id, SyncRun.rows)
                .where(SyncRun.id > last_seen, SyncRun.finished_at.is_not(None))
                .order_by(SyncRun.id)
            ).all()
        first = partitions.start.date()
        days: set[str] = set()
        for _, rows in runs:
            for day in (rows or {}).get("touched_days", []):
                if first <= date.fromisoformat(day) < date.today():  # today's partition opens tomorrow
                    days.add(day)
        newest = max([last_seen, *(run_id for run_id, _ in runs)])
        requests = [dg.RunRequest(run_key=f"{day}:{newest}", partition_key=day) for day in sorted(days)]
        return dg.SensorResult(run_requests=requests, cursor=str(newest))

    return analytics_after_sync
