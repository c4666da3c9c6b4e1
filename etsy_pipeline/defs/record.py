"""Work done outside Dagster, recorded in the Dagster instance.

`etsy-pipeline sync` and `backfill` do the same work as the `etsy_pull` and analytics assets. Without a record,
the UI would show those assets "never materialized" after a command-line run and an operator would backfill
everything again. So when a Dagster instance is configured (DAGSTER_HOME, or the one `etsy-pipeline dev` keeps
under DATA_DIR), the commands report runless asset materializations with the same partitions and metadata as the
assets' own runs. Recording never fails the command: the data is in PostgreSQL either way.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from datetime import date
from pathlib import Path

import dagster as dg

from etsy_pipeline.settings import Settings
from etsy_pipeline.sync.outcome import SyncStatus
from etsy_pipeline.sync.runner import SyncResult

log = logging.getLogger(__name__)
RECORDED = (SyncStatus.SUCCEEDED, SyncStatus.QUOTA_EXHAUSTED)  # what the asset itself would have materialized


def dev_home(settings: Settings) -> Path:
    """Where `etsy-pipeline dev` keeps its instance, so run history survives a restart."""
    return settings.data_dir.resolve() / "dagster"


def instance_for(settings: Settings) -> dg.DagsterInstance | None:
    home = os.environ.get("DAGSTER_HOME")
    if home:
        return dg.DagsterInstance.get()
    if (dev_home(settings) / "dagster.yaml").exists():
        return dg.DagsterInstance.from_config(str(dev_home(settings)))
    return None


def record_sync(settings: Settings, results: Iterable[SyncResult]) -> int:
    """Report each finished pull as materializations of its shop partition; returns how many were reported."""
    from etsy_pipeline.defs.ingest.assets import materializations
    from etsy_pipeline.defs.ingest.partitions import shop_partitions

    done = [r for r in results if r.status in RECORDED]
    try:
        instance = instance_for(settings)
        if instance is None or not done:
            return 0
        with instance:
            known = set(instance.get_dynamic_partitions(shop_partitions.name))  # type: ignore[arg-type]
            new = sorted({str(r.etsy_shop_id) for r in done} - known)
            if new:
                instance.add_dynamic_partitions(shop_partitions.name, new)  # type: ignore[arg-type]
            count = 0
            for result in done:
                for key, metadata in materializations(result).items():
                    event = dg.AssetMaterialization(key, partition=str(result.etsy_shop_id), metadata=metadata)
                    instance.report_runless_asset_event(event)
                    count += 1
            return count
    except Exception as exc:  # a missing record must never turn a good sync into a failure
        log.warning("could not record the sync in the Dagster instance (%s)", type(exc).__name__)
        return 0


def record_analytics(settings: Settings, days: Iterable[tuple[date, dict[str, int]]]) -> int:
    """Report rebuilt days as materializations of the analytics assets' day partitions."""
    events = [
        dg.AssetMaterialization(["analytics", table], partition=day.isoformat(), metadata={"dagster/row_count": n})
        for day, rows in days
        if day >= settings.analytics_start_date
        for table, n in rows.items()
    ]
    try:
        instance = instance_for(settings)
        if instance is None or not events:
            return 0
        with instance:
            for event in events:
                instance.report_runless_asset_event(event)
        return len(events)
    except Exception as exc:  # see record_sync
        log.warning("could not record the backfill in the Dagster instance (%s)", type(exc).__name__)
        return 0
