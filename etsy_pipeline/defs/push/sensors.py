"""Sensors that launch push runs. They only read the outbox; the runs write to Etsy.

A run's `run_key` is the shop and the highest due change id (with the time the due changes were last touched),
so a tick that sees the same changes again asks for the same run and Dagster launches it once, while a change
that comes due again for a retry gets a new run.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.push.due import BATCHED_TYPES, CRITICAL_TYPES, DueBatch, due_batches, ready


def _request(batch: DueBatch, kind: str) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=batch.run_key(kind),
        run_config={"ops": {"etsy_push": {"config": {"etsy_shop_id": batch.etsy_shop_id, "kind": kind}}}},
        tags={"etsy_shop_id": str(batch.etsy_shop_id), "push": kind},
    )


def build_sensors(job_name: str, running: bool, automation: Automation | None = None) -> list[dg.SensorDefinition]:
    """`running`: PUSH_AUTOMATION; `automation` may also name either sensor as starting stopped."""

    def status(name: str) -> dg.DefaultSensorStatus:
        if running and (automation is None or automation.runs(name)):
            return dg.DefaultSensorStatus.RUNNING
        return dg.DefaultSensorStatus.STOPPED

    @dg.sensor(
        name="critical_push_sensor",
        job_name=job_name,
        minimum_interval_seconds=30,
        default_status=status("critical_push_sensor"),
    )
    def critical_push_sensor(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SensorResult:
        """Stock and order changes go at once: one run per shop with any due."""
        with storage.open() as runtime:
            batches = due_batches(runtime.db, CRITICAL_TYPES)
        requests = [_request(b, "critical") for b in batches]
        return dg.SensorResult(run_requests=requests, skip_reason=None if requests else "no critical change due")

    @dg.sensor(
        name="batched_push_sensor",
        job_name=job_name,
        minimum_interval_seconds=60,
        default_status=status("batched_push_sensor"),
    )
    def batched_push_sensor(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SensorResult:
        """Listing edits go when PUSH_BATCH_SIZE are due or the oldest is PUSH_BATCH_MAX_AGE_MINUTES old."""
        with storage.open() as runtime:
            settings = runtime.settings
            batches = due_batches(runtime.db, BATCHED_TYPES)
        now = datetime.now(UTC)
        age = timedelta(minutes=settings.push_batch_max_age_minutes)
        requests = [
            _request(b, "batched") for b in batches if ready(b, now, size=settings.push_batch_size, max_age=age)
        ]
        return dg.SensorResult(run_requests=requests, skip_reason=None if requests else "no batch ready")

    return [critical_push_sensor, batched_push_sensor]
