"""Checks on the analytics tables: totals reconcile with core.orders, no negative counts, every customer scored,
while the freshness policy on shop_daily_metrics lives on the asset itself.

In a run that builds days (one day, or a backfill's range) the checks look at those days only, so a nightly run
checks yesterday instead of scanning years of history; run on their own, they check every day. (Dagster's
partitioned asset checks would record a verdict per day, but they are a preview feature in 1.13 and a check-only
launch of them fails in the UI.)
"""

from datetime import date, timedelta
from typing import Any

import dagster as dg
from sqlalchemy import text

from etsy_pipeline.defs.resources import StorageResource

SHOP_DAY = dg.AssetKey(["analytics", "shop_daily_metrics"])
SEGMENTS = dg.AssetKey(["analytics", "customer_segments"])

# Days whose analytics disagree with core.orders, in either direction (a day missing from analytics counts too).
TOTALS = """
WITH truth AS (
    SELECT shop_id, (etsy_created_at AT TIME ZONE :tz)::date AS day, currency_code, count(*) AS orders,
        sum(total_price - discount_amt - refunded_amount) AS net
    FROM core.orders
    WHERE status <> 'canceled'
      AND etsy_created_at >= CAST(:first AS timestamp) AT TIME ZONE :tz
      AND etsy_created_at < CAST(:end AS timestamp) AT TIME ZONE :tz
    GROUP BY 1, 2, 3
), built AS (
    SELECT * FROM analytics.shop_daily_metrics WHERE metric_date >= :first AND metric_date < :end
)
SELECT count(*) FROM built m
FULL JOIN truth t ON t.shop_id = m.shop_id AND t.day = m.metric_date AND t.currency_code = m.currency_code
WHERE coalesce(m.orders, 0) <> coalesce(t.orders, 0) OR coalesce(m.net_sales, 0) <> coalesce(t.net, 0)
"""

NEGATIVE = """
SELECT count(*) FROM analytics.shop_daily_metrics
WHERE metric_date >= :first AND metric_date < :end
  AND (orders < 0 OR items_sold < 0 OR distinct_buyers < 0 OR new_buyers < 0 OR returning_buyers < 0
       OR views_gained < 0 OR favorites_gained < 0 OR reviews < 0 OR gross_sales < 0)
"""

UNSCORED = """
SELECT count(*) FROM analytics.customers c
WHERE c.as_of_date >= :first AND c.as_of_date < :end
  AND c.as_of_date IN (SELECT DISTINCT as_of_date FROM analytics.customer_segments
                       WHERE as_of_date >= :first AND as_of_date < :end)
  AND NOT EXISTS (SELECT 1 FROM analytics.customer_segments s WHERE s.as_of_date = c.as_of_date
                  AND s.shop_id = c.shop_id AND s.etsy_buyer_user_id = c.etsy_buyer_user_id)
"""


def _days(context: dg.AssetCheckExecutionContext) -> tuple[date, date]:
    """The checked days as [first, end): the run's day or range of days (daily keys are ISO dates), else all."""
    if not (context.has_partition_key or context.has_partition_key_range):
        return date.min, date.max
    keys = context.partition_key_range
    return date.fromisoformat(keys.start), date.fromisoformat(keys.end) + timedelta(days=1)


def _count(context: dg.AssetCheckExecutionContext, storage: StorageResource, sql: str) -> tuple[int, dict[str, Any]]:
    first, end = _days(context)
    with storage.open() as runtime, runtime.db.engine.connect() as conn:
        params = {"tz": runtime.settings.analytics_timezone, "first": first, "end": end}
        found = int(conn.execute(text(sql), params).scalar() or 0)
    if end == date.max:
        return found, {"days_checked": "all"}
    return found, {"first_day": first.isoformat(), "days_checked": (end - first).days}


@dg.asset_check(asset=SHOP_DAY, description="Each day's orders and net sales equal what core.orders holds for it.")
def totals_reconcile(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    wrong, scope = _count(context, storage, TOTALS)
    return dg.AssetCheckResult(passed=wrong == 0, metadata={"days_not_reconciling": wrong, **scope})


@dg.asset_check(asset=SHOP_DAY, description="No count or amount that can only grow is negative.")
def no_negative_counts(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    bad, scope = _count(context, storage, NEGATIVE)
    return dg.AssetCheckResult(passed=bad == 0, metadata={"negative_rows": bad, **scope})


@dg.asset_check(asset=SEGMENTS, description="Every customer of a scored day has a segment.")
def every_customer_has_a_segment(
    context: dg.AssetCheckExecutionContext, storage: StorageResource
) -> dg.AssetCheckResult:
    missing, scope = _count(context, storage, UNSCORED)
    return dg.AssetCheckResult(passed=missing == 0, metadata={"customers_without_segment": missing, **scope})


CHECKS = [totals_reconcile, no_negative_counts, every_customer_has_a_segment]
