"""Checks on the analytics tables: totals reconcile with core.orders, no negative counts, every customer scored,
while the freshness policy on shop_daily_metrics lives on the asset itself."""

import dagster as dg

from etsy_pipeline.defs.resources import StorageResource, scalar

SHOP_DAY = dg.AssetKey(["analytics", "shop_daily_metrics"])
SEGMENTS = dg.AssetKey(["analytics", "customer_segments"])


@dg.asset_check(asset=SHOP_DAY, description="Each day's orders and net sales equal what core.orders holds for it.")
def totals_reconcile(storage: StorageResource) -> dg.AssetCheckResult:
    wrong = scalar(
        storage,
        """
        WITH truth AS (
            SELECT shop_id, (etsy_created_at AT TIME ZONE :tz)::date AS day, currency_code, count(*) AS orders,
                sum(total_price - discount_amt - refunded_amount) AS net
            FROM core.orders WHERE status <> 'canceled' GROUP BY 1, 2, 3
        )
        SELECT count(*) FROM analytics.shop_daily_metrics m
        LEFT JOIN truth t ON t.shop_id = m.shop_id AND t.day = m.metric_date AND t.currency_code = m.currency_code
        WHERE m.orders <> coalesce(t.orders, 0) OR m.net_sales <> coalesce(t.net, 0)
        """,
    )
    return dg.AssetCheckResult(passed=wrong == 0, metadata={"days_not_reconciling": wrong})


@dg.asset_check(asset=SHOP_DAY, description="No count or amount that can only grow is negative.")
def no_negative_counts(storage: StorageResource) -> dg.AssetCheckResult:
    bad = scalar(
        storage,
        """
        SELECT count(*) FROM analytics.shop_daily_metrics
        WHERE orders < 0 OR items_sold < 0 OR distinct_buyers < 0 OR new_buyers < 0 OR returning_buyers < 0
           OR views_gained < 0 OR favorites_gained < 0 OR reviews < 0 OR gross_sales < 0
        """,
    )
    return dg.AssetCheckResult(passed=bad == 0, metadata={"negative_rows": bad})


@dg.asset_check(asset=SEGMENTS, description="Every customer of a scored day has a segment.")
def every_customer_has_a_segment(storage: StorageResource) -> dg.AssetCheckResult:
    missing = scalar(
        storage,
        """
        SELECT count(*) FROM analytics.customers c
        WHERE c.as_of_date IN (SELECT DISTINCT as_of_date FROM analytics.customer_segments)
          AND NOT EXISTS (SELECT 1 FROM analytics.customer_segments s WHERE s.as_of_date = c.as_of_date
                          AND s.shop_id = c.shop_id AND s.etsy_buyer_user_id = c.etsy_buyer_user_id)
        """,
    )
    return dg.AssetCheckResult(passed=missing == 0, metadata={"customers_without_segment": missing})


CHECKS = [totals_reconcile, no_negative_counts, every_customer_has_a_segment]
