"""Checks on the analytics tables: totals reconcile with core.orders, no negative counts, every customer scored,
while the freshness policy on shop_daily_metrics lives on the asset itself.

In a run that builds days (one day, or a backfill's range) the checks look at those days only, so a nightly run
checks yesterday instead of scanning years of history; run on their own, they check every day. (Dagster's
partitioned asset checks would record a verdict per day, but they are a preview feature in 1.13 and a check-only
launch of them fails in the UI.)
"""

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import dagster as dg
from sqlalchemy import Connection

from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.transform.analytics_reads import customers_without_segment, days_not_reconciling, negative_rows

SHOP_DAY = dg.AssetKey(["analytics", "shop_daily_metrics"])
SEGMENTS = dg.AssetKey(["analytics", "customer_segments"])


def _days(context: dg.AssetCheckExecutionContext) -> tuple[date, date]:
    """The checked days as [first, end): the run's day or range of days (daily keys are ISO dates), else all."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return date.min, date.max
    keys = context.partition_key_range
    return date.fromisoformat(keys.start), date.fromisoformat(keys.end) + timedelta(days=1)


Count = Callable[[Connection, date, date, str], int]


def _count(
    context: dg.AssetCheckExecutionContext, storage: StorageResource, count: Count
) -> tuple[int, dict[str, Any]]:
    first, end = _days(context)
    with storage.open() as runtime, runtime.db.engine.connect() as conn:
        found = count(conn, first, end, runtime.settings.analytics_timezone)
    if end == date.max:
        return found, {"days_checked": "all"}
    return found, {"first_day": first.isoformat(), "days_checked": (end - first).days}


@dg.asset_check(asset=SHOP_DAY, description="Each day's orders and net sales equal what core.orders holds for it.")
def totals_reconcile(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    wrong, scope = _count(context, storage, lambda c, a, b, tz: days_not_reconciling(c, a, b, tz=tz))
    return dg.AssetCheckResult(passed=wrong == 0, metadata={"days_not_reconciling": wrong, **scope})


@dg.asset_check(asset=SHOP_DAY, description="No count or amount that can only grow is negative.")
def no_negative_counts(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    bad, scope = _count(context, storage, lambda c, a, b, _: negative_rows(c, a, b))
    return dg.AssetCheckResult(passed=bad == 0, metadata={"negative_rows": bad, **scope})


@dg.asset_check(asset=SEGMENTS, description="Every customer of a scored day has a segment.")
def every_customer_has_a_segment(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> dg.AssetCheckResult:
    missing, scope = _count(context, storage, lambda c, a, b, _: customers_without_segment(c, a, b))
    return dg.AssetCheckResult(passed=missing == 0, metadata={"customers_without_segment": missing, **scope})


CHECKS = [totals_reconcile, no_negative_counts, every_customer_has_a_segment]
