"""Daily-partitioned analytics assets. A backfill over a range runs as one run (single-run policy) that rebuilds
the whole range set-based, one statement per table in one transaction; a day's rebuild replaces exactly that day.

Each asset names its table and columns for the catalog (from the models' comments), and each materialization
records `dagster/row_count`: the rows its run wrote, for one day or, in a range run, for the whole range (Dagster
attaches a range run's metadata to every day of it).
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import dagster as dg
from sqlalchemy import Connection

from etsy_pipeline.defs.catalog import ROW_COUNT, table_metadata
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.transform.analytics import (
    customer_snapshot_days,
    rebuild_customer_days,
    rebuild_inventory_alert_days,
    rebuild_listing_days,
    rebuild_segment_days,
    rebuild_shop_days,
)
from etsy_pipeline.transform.analytics_reads import daily_net_sales, day_preview
from etsy_pipeline.transform.backfill import invalidate_analytics

# Rebuilds the days given (a run's range, or the days of it whose customer snapshots are kept); rows written.
Rebuild = Callable[[Connection, list[date], Any], int]
SPARK = "▁▂▃▄▅▆▇█"


def _core(*tables: str) -> list[dg.AssetDep]:
    """Core tables are partitioned by shop, analytics by day: a day's rebuild reads every shop's rows, so each
    day depends on all shop partitions (without the mapping Dagster rejects the graph and asset backfills)."""
    return [dg.AssetDep(["core", table], partition_mapping=dg.AllPartitionMapping()) for table in tables]


def _days(context: dg.AssetExecutionContext) -> list[date]:
    window = context.partition_time_window
    first = window.start.date()
    count = (window.end.date() - first).days
    return [first + timedelta(days=n) for n in range(count)]


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1
    return "".join(SPARK[int((v - low) / span * (len(SPARK) - 1))] for v in values)


def _net_sales_chart(conn: Connection, last: date) -> str:
    values = daily_net_sales(conn, last)
    return f"net sales, last 30 days to {last}: `{sparkline(values)}` (max {max(values, default=0):,.2f})"


def _preview(conn: Connection, day: date) -> str:
    lines = ["| shop | currency | orders | items | net sales | buyers |", "|---|---|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} | {e} | {f} |" for a, b, c, d, e, f in day_preview(conn, day)]
    return "\n".join(lines)


def _run(
    context: dg.AssetExecutionContext, storage: StorageResource, rebuild: Rebuild, *, snapshots_only: bool = False
) -> dict[str, Any]:
    days = _days(context)
    if snapshots_only:  # customers and segments are kept for month ends and the latest day only
        days = customer_snapshot_days(days[0], days[-1])
    with storage.open() as runtime:
        with runtime.db.engine.begin() as conn:
            written = rebuild(conn, days, runtime.settings)
        invalidate_analytics(runtime, None)  # cached analytics reads must not outlive the rebuild
        metadata: dict[str, Any] = {ROW_COUNT: written, "days": len(days)}
        if rebuild is SHOP_DAYS:
            with runtime.db.engine.connect() as conn:
                metadata["preview"] = dg.MetadataValue.md(_preview(conn, days[-1]))
                metadata["net_sales_30_days"] = dg.MetadataValue.md(_net_sales_chart(conn, days[-1]))
    return metadata


def SHOP_DAYS(conn: Connection, days: list[date], settings: Any) -> int:
    return rebuild_shop_days(conn, days[0], days[-1], tz=settings.analytics_timezone)


def build_assets(partitions: dg.DailyPartitionsDefinition) -> list[dg.AssetsDefinition]:
    common: dict[str, Any] = {
        "partitions_def": partitions,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "group_name": "analytics",
        "kinds": {"postgres"},
        "owners": ["team:analytics"],
        "tags": {"layer": "analytics", "partitioned_by": "day"},
    }

    @dg.asset(  # type: ignore[untyped-decorator]
        key=["analytics", "shop_daily_metrics"],
        metadata=table_metadata("analytics.shop_daily_metrics"),
        deps=_core("orders", "order_items", "listing_snapshots"),
        description="Each shop's day: sales, buyers, views, reviews (analytics.shop_daily_metrics).",
        # Yesterday is built at 02:00; a day without a fresh build by 30 hours is an alert.
        freshness_policy=dg.FreshnessPolicy.time_window(
            fail_window=timedelta(hours=30), warn_window=timedelta(hours=26)
        ),
        **common,
    )
    def shop_daily_metrics(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult[Any]:
        return dg.MaterializeResult(metadata=_run(context, storage, SHOP_DAYS))

    @dg.asset(  # type: ignore[untyped-decorator]
        key=["analytics", "listing_daily_metrics"],
        metadata=table_metadata("analytics.listing_daily_metrics"),
        deps=_core("order_items", "listing_snapshots"),
        description="Each listing's day: views and favorites gained, units, revenue, stock.",
        **common,
    )
    def listing_daily_metrics(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult[Any]:
        return dg.MaterializeResult(
            metadata=_run(
                context, storage, lambda c, d, s: rebuild_listing_days(c, d[0], d[-1], tz=s.analytics_timezone)
            )
        )

    @dg.asset(  # type: ignore[untyped-decorator]
        key=["analytics", "customers"],
        metadata=table_metadata("analytics.customers"),
        deps=_core("orders"),
        description="Every buyer's lifetime figures per shop, as of the day.",
        **common,
    )
    def customers(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult[Any]:
        return dg.MaterializeResult(
            metadata=_run(
                context,
                storage,
                lambda c, d, s: rebuild_customer_days(c, d, tz=s.analytics_timezone),
                snapshots_only=True,
            )
        )

    @dg.asset(  # type: ignore[untyped-decorator]
        key=["analytics", "customer_segments"],
        metadata=table_metadata("analytics.customer_segments"),
        deps=[dg.AssetKey(["analytics", "customers"])],
        description="RFM scores and named segments per buyer and shop, as of the day.",
        **common,
    )
    def customer_segments(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult[Any]:
        return dg.MaterializeResult(
            metadata=_run(context, storage, lambda c, d, s: rebuild_segment_days(c, d), snapshots_only=True)
        )

    @dg.asset(  # type: ignore[untyped-decorator]
        key=["analytics", "inventory_alerts"],
        metadata=table_metadata("analytics.inventory_alerts"),
        deps=_core("inventory"),
        description="Offerings at or below their shop's low-stock threshold, and sold out ones.",
        **common,
    )
    def inventory_alerts(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult[Any]:
        return dg.MaterializeResult(
            metadata=_run(
                context,
                storage,
                lambda c, d, s: rebuild_inventory_alert_days(c, d[0], d[-1], default_threshold=s.low_stock_threshold),
            )
        )

    return [shop_daily_metrics, listing_daily_metrics, customers, customer_segments, inventory_alerts]
