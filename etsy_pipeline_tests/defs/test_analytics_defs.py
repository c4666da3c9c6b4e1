from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg
from sqlalchemy import text

from etsy_pipeline.defs.analytics.definitions import build_defs
from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.settings import get_settings
from etsy_pipeline_tests.sync.conftest import Installation

TABLES = ("shop_daily_metrics", "listing_daily_metrics", "customers", "customer_segments", "inventory_alerts")


def _defs() -> dg.Definitions:
    return dg.Definitions.merge(
        build_defs(get_settings(), Automation()), dg.Definitions(resources={"storage": StorageResource()})
    )


def test_the_analytics_graph_keeps_its_names(configured: Installation) -> None:
    repository = _defs().get_repository_def()
    keys = {k.to_user_string() for k in repository.asset_graph.get_all_asset_keys()}
    assert {f"analytics/{t}" for t in TABLES} <= keys
    assert repository.has_job("analytics_daily")
    assert repository.get_schedule_def("analytics_nightly").cron_schedule == "0 2 * * *"
    assert repository.has_sensor_def("analytics_after_sync")
    shop_day = repository.assets_defs_by_key[dg.AssetKey(["analytics", "shop_daily_metrics"])]
    assert shop_day.backfill_policy == dg.BackfillPolicy.single_run()


def test_the_catalog_shows_each_table_and_its_column_comments(configured: Installation) -> None:
    repository = _defs().get_repository_def()
    for table in TABLES:
        key = dg.AssetKey(["analytics", table])
        spec = repository.assets_defs_by_key[key].specs_by_key[key]
        assert spec.metadata["dagster/table_name"] == f"analytics.{table}"
        shown = {c.name: c.description for c in spec.metadata["dagster/column_schema"].columns}
        comments = configured.core(  # what the migrations wrote into the database
            "SELECT attname, col_description(attrelid, attnum) FROM pg_attribute "
            "WHERE attrelid = CAST(:t AS regclass) AND attnum > 0 AND NOT attisdropped",
            t=f"analytics.{table}",
        )
        assert shown == dict(comments) and all(shown.values()), table
        assert spec.owners == ["team:analytics"] and spec.tags["layer"] == "analytics"


def test_a_range_backfills_in_one_run_and_the_checks_watch_it(
    configured: Installation, instance: dg.DagsterInstance
) -> None:
    configured.sync_all()
    stamps = [r.created for r in configured.state.world.receipts.values()]
    last = datetime.fromtimestamp(max(stamps), tz=UTC).date()
    first = last - timedelta(days=9)
    defs = _defs()
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]  # type: ignore[union-attr]
    checks = list(defs.asset_checks or [])
    result = dg.materialize(
        [*assets, *checks],
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
    built = configured.core("SELECT count(*) FROM analytics.shop_daily_metrics")[0][0]
    assert shop_day.metadata["dagster/row_count"].value == built > 0
    with configured.runtime.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE analytics.shop_daily_metrics SET orders = orders + 1 WHERE metric_date = :d"), {"d": first}
        )

    def verdict(day: date | None) -> dict[str, bool]:
        """The checks of a run that covers one day, or run on their own (every day)."""
        scope = [("dagster/asset_partition_range_start", day), ("dagster/asset_partition_range_end", day)]
        run = dg.materialize(
            [*assets, *checks],
            instance=instance,
            resources={"storage": StorageResource()},
            selection=dg.AssetSelection.checks(*checks),
            tags={key: value.isoformat() for key, value in scope if value},
        )
        return {c.check_name: c.passed for c in run.get_asset_check_evaluations()}

    assert verdict(first)["totals_reconcile"] is False
    assert verdict(last)["totals_reconcile"] is True  # a check looks at its run's days only
    assert verdict(None)["totals_reconcile"] is False
    with configured.runtime.db.engine.begin() as conn:  # a day with orders missing from analytics is caught too
        conn.execute(text("DELETE FROM analytics.shop_daily_metrics WHERE metric_date = :d"), {"d": last})
    assert verdict(last)["totals_reconcile"] is False
