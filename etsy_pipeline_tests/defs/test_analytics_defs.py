from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
from sqlalchemy import text

from etsy_pipeline.defs.analytics.checks import CHECKS
from etsy_pipeline.defs.analytics.definitions import build_defs
from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.settings import get_settings
from etsy_pipeline_tests.sync.conftest import Installation


def _defs() -> dg.Definitions:
    return dg.Definitions.merge(
        build_defs(get_settings(), Automation()), dg.Definitions(resources={"storage": StorageResource()})
    )


def test_the_analytics_graph_keeps_its_names(configured: Installation) -> None:
    repository = _defs().get_repository_def()
    keys = {k.to_user_string() for k in repository.asset_graph.get_all_asset_keys()}
    assert {
        f"analytics/{t}"
        for t in ("shop_daily_metrics", "listing_daily_metrics", "customers", "customer_segments", "inventory_alerts")
    } <= keys
    assert repository.has_job("analytics_daily")
    assert repository.get_schedule_def("analytics_nightly").cron_schedule == "0 2 * * *"
    assert repository.has_sensor_def("analytics_after_sync")
    shop_day = repository.assets_defs_by_key[dg.AssetKey(["analytics", "shop_daily_metrics"])]
    assert shop_day.backfill_policy == dg.BackfillPolicy.single_run()


def test_a_range_backfills_in_one_run_and_the_checks_watch_it(
    configured: Installation, instance: dg.DagsterInstance
) -> None:
    configured.sync_all()
    stamps = [r.created for r in configured.state.world.receipts.values()]
    last = datetime.fromtimestamp(max(stamps), tz=UTC).date()
    first = last - timedelta(days=9)
    defs = _defs()
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]  # type: ignore[union-attr]
    result = dg.materialize(
        [*assets, *CHECKS],
        instance=instance,
        resources={"storage": StorageResource()},
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
    )
    assert result.success
    rows = configured.core("SELECT count(DISTINCT metric_date) FROM analytics.shop_daily_metrics")[0][0]
    assert rows == 10
    evaluations = {c.check_name: c.passed for c in result.get_asset_check_evaluations()}
    assert evaluations == {"totals_reconcile": True, "no_negative_counts": True, "every_customer_has_a_segment": True}
    shop_day = next(m for m in result.asset_materializations_for_node("analytics__shop_daily_metrics"))
    assert "net sales, last 30 days" in str(shop_day.metadata["net_sales_30_days"].value)
    with configured.runtime.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE analytics.shop_daily_metrics SET orders = orders + 1 WHERE metric_date = :d"), {"d": last}
        )
    verdict = dg.materialize(
        CHECKS, instance=instance, resources={"storage": StorageResource()}, selection=dg.AssetSelection.checks(*CHECKS)
    )
    checks = {c.check_name: c.passed for c in verdict.get_asset_check_evaluations()}
    assert checks["totals_reconcile"] is False


def test_the_sensor_asks_for_the_days_a_sync_touched(configured: Installation, instance: dg.DagsterInstance) -> None:
    configured.sync_all()
    repository = _defs().get_repository_def()
    sensor = repository.get_sensor_def("analytics_after_sync")
    result = sensor(dg.build_sensor_context(instance=instance, resources={"storage": StorageResource()}))
    assert isinstance(result, dg.SensorResult)
    days = {r.partition_key for r in result.run_requests or []}
    order_days = {
        datetime.fromtimestamp(r.created, tz=UTC).date().isoformat() for r in configured.state.world.receipts.values()
    }
    assert days and days <= order_days
    assert all(date.fromisoformat(str(d)) >= get_settings().analytics_start_date for d in days)
    again = sensor(
        dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"storage": StorageResource()})
    )
    assert isinstance(again, dg.SensorResult) and not again.run_requests
