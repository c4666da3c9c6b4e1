"""The `pull_sync` job, its 6-hourly schedule over every shop, and the sensor that keeps shops in step.

Schedule and sensor are built by functions because whether each starts RUNNING is a deployment setting
(`Automation`), read once by the code location, never at import time.
"""

import dagster as dg
from sqlalchemy import select

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.ingest.assets import etsy_pull
from etsy_pipeline.defs.ingest.partitions import batch_run_tags, batches, shop_partitions, shop_run_tags
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.settings import get_settings
from etsy_pipeline.storage.models import Shop

PULL_SCHEDULE = "pull_sync_every_6_hours"
SHOPS_SENSOR = "etsy_shops_sensor"

pull_sync = dg.define_asset_job(
    "pull_sync",
    selection=dg.AssetSelection.assets(etsy_pull),
    description="Pull shops from Etsy: one shop partition, or a range of them one after another (one run per shop "
    "at a time).",
)


def pull_every_shop(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest]:
    """A run per `SYNC_SHOPS_PER_RUN` connected shops, so a thousand shops are not a thousand run processes.

    Each shop still fails on its own: a batch pulls and records its other shops and fails only the failing
    shop's partition. A batch of one is an ordinary single-shop run (tagged for the one-run-per-shop limit).
    """
    tick = context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else "manual"
    keys = context.instance.get_dynamic_partitions(shop_partitions.name)  # type: ignore[arg-type]
    requests = []
    for batch in batches(keys, get_settings().sync_shops_per_run):
        first, last = batch[0], batch[-1]
        if len(batch) == 1:
            requests.append(dg.RunRequest(run_key=f"{first}:{tick}", partition_key=first, tags=shop_run_tags(first)))
        else:
            requests.append(dg.RunRequest(run_key=f"{first}..{last}:{tick}", tags=batch_run_tags(batch)))
    return requests


def follow_connected_shops(context: dg.SensorEvaluationContext, storage: StorageResource) -> dg.SensorResult:
    """Add a partition for every connected shop, drop the ones whose shop is gone."""
    with storage.open() as runtime, runtime.db.session() as session:
        connected = {str(s) for s in session.scalars(select(Shop.etsy_shop_id))}
    known = set(context.instance.get_dynamic_partitions(shop_partitions.name))  # type: ignore[arg-type]
    added, removed = sorted(connected - known), sorted(known - connected)
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if added:
        requests.append(shop_partitions.build_add_request(added))
    if removed:
        requests.append(shop_partitions.build_delete_request(removed))
    return dg.SensorResult(dynamic_partitions_requests=requests, skip_reason=None if requests else "shops in step")


def build_pull_schedule(automation: Automation) -> dg.ScheduleDefinition:
    return dg.schedule(
        name=PULL_SCHEDULE,
        cron_schedule="0 */6 * * *",
        job=pull_sync,
        default_status=automation.schedule(PULL_SCHEDULE),
        description="Pull every connected shop every six hours, SYNC_SHOPS_PER_RUN shops per run.",
    )(pull_every_shop)


def build_shops_sensor(automation: Automation) -> dg.SensorDefinition:
    return dg.sensor(
        name=SHOPS_SENSOR,
        minimum_interval_seconds=60,
        default_status=automation.sensor(SHOPS_SENSOR),
        description="Keep one shop partition per connected shop.",
    )(follow_connected_shops)
