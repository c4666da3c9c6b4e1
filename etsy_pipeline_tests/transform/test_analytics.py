from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.transform.analytics import rebuild_all, rebuild_segments, rebuild_shop_day
from etsy_pipeline_tests.factories import user_with_shop
from etsy_pipeline_tests.sync.conftest import Installation
from etsy_pipeline_tests.transform.expected import shop_day

ROW_COLUMNS = ("orders", "items_sold", "gross_sales", "discounts", "refunds", "net_sales", "distinct_buyers",
               "new_buyers")  # fmt: skip


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, tz=UTC).date()


def _busiest_day(inst: Installation, etsy_shop_id: int) -> date:
    days = Counter(_day(r.created) for r in inst.state.world.receipts.values() if r.shop_id == etsy_shop_id)
    return days.most_common(1)[0][0]


def _expected_day(inst: Installation, etsy_shop_id: int, day: date) -> dict[str, Any]:
    """An independent computation from the emulator's own objects (the columns `_row` reads)."""
    full = shop_day(inst.state, etsy_shop_id, day)
    return {k: full[k] for k in ROW_COLUMNS}


def _row(inst: Installation, shop_id: int, day: date) -> dict[str, Any]:
    rows = inst.core(
        f"SELECT {', '.join(ROW_COLUMNS)} FROM analytics.shop_daily_metrics WHERE shop_id = :s AND metric_date = :d",
        s=shop_id,
        d=day,
    )
    return dict(zip(ROW_COLUMNS, rows[0], strict=True))


def _rebuild(inst: Installation, days: list[date]) -> None:
    with inst.runtime.db.engine.begin() as conn:
        for day in days:
            rebuild_all(conn, day, tz="UTC", default_threshold=5)


def test_a_day_equals_an_independent_computation(tiny: Installation) -> None:
    tiny.sync_all()
    for shop in tiny.shops:
        day = _busiest_day(tiny, shop.etsy_shop_id)
        _rebuild(tiny, [day])
        assert _row(tiny, shop.shop_id, day) == _expected_day(tiny, shop.etsy_shop_id, day)


def test_a_backfilled_range_equals_day_by_day_and_rebuilding_is_idempotent(tiny: Installation) -> None:
    tiny.sync_all()
    start = _busiest_day(tiny, tiny.shops[0].etsy_shop_id) - timedelta(days=3)
    days = [start + timedelta(days=n) for n in range(7)]
    columns = (
        "shop_id, metric_date, currency_code, orders, items_sold, gross_sales, discounts, shipping, tax, refunds, "
        "net_sales, average_order_value, distinct_buyers, new_buyers, returning_buyers, views_gained, "
        "favorites_gained, orders_per_1000_views, repeat_customer_rate, reviews, average_rating"
    )
    query = f"SELECT {columns} FROM analytics.shop_daily_metrics WHERE metric_date BETWEEN :a AND :b ORDER BY 1, 2, 3"

    def snapshot() -> list[tuple[Any, ...]]:
        return [tuple(r) for r in tiny.core(query, a=days[0], b=days[-1])]

    _rebuild(tiny, days)  # one transaction for the range
    ranged = snapshot()
    for day in days:  # then day by day
        _rebuild(tiny, [day])
    assert snapshot() == ranged
    _rebuild(tiny, days)
    assert snapshot() == ranged
    assert len(ranged) == 7 * len(tiny.shops)


def test_a_late_refund_changes_the_old_day_after_the_next_sync(tiny: Installation) -> None:
    tiny.sync_all()
    shop = tiny.shops[0]
    receipt = tiny.newest_refundable(shop.etsy_shop_id)
    day = _day(receipt.created)
    _rebuild(tiny, [day])
    before = _row(tiny, shop.shop_id, day)
    tiny.admin("advance", hours=1)
    tiny.admin("refund", receipt_id=receipt.receipt_id, amount=300)
    tiny.sync(0)
    _rebuild(tiny, [day])
    after = _row(tiny, shop.shop_id, day)
    divisor = tiny.state.world.shops[shop.etsy_shop_id].currency.divisor
    assert after["refunds"] - before["refunds"] == Decimal(300) / divisor
    assert after["net_sales"] == before["net_sales"] - Decimal(300) / divisor
    assert after == _expected_day(tiny, shop.etsy_shop_id, day)


def test_rfm_scores_and_segments_on_hand_built_customers(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "rfm@example.com")
    as_of = date(2026, 6, 30)
    # (buyer, days since last order, orders, spent): ten buyers spread so the quintiles are two buyers each.
    people = [
        (1, 1, 8, 900),
        (2, 2, 6, 800),  # recent, frequent, big spenders
        (3, 0, 1, 12),
        (4, 4, 1, 14),  # just arrived, one small order each
        (5, 40, 3, 300),
        (6, 45, 2, 200),  # steady
        (7, 200, 6, 950),
        (8, 210, 5, 700),  # used to be great, gone quiet
        (9, 400, 1, 50),
        (10, 420, 1, 60),  # long gone
    ]
    rows = [
        {
            "as_of": as_of,
            "shop": shop.id,
            "buyer": buyer,
            "last": datetime(2026, 6, 30, tzinfo=UTC) - timedelta(days=days),
            "orders": orders,
            "spent": Decimal(spent),
            "days": days,
        }
        for buyer, days, orders, spent in people
    ]
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO analytics.customers (as_of_date, shop_id, etsy_buyer_user_id, first_order_at, "
                "last_order_at, order_count, units, total_spent, average_order_value, days_since_last_order, "
                "currency_code) VALUES (:as_of, :shop, :buyer, :last, :last, :orders, :orders, :spent, :spent, "
                ":days, 'USD')"
            ),
            rows,
        )
        assert rebuild_segments(conn, as_of) == 10
        result = {
            buyer: (r, f, m, segment)
            for buyer, r, f, m, segment in conn.execute(
                text("SELECT etsy_buyer_user_id, r_score, f_score, m_score, segment FROM analytics.customer_segments")
            )
        }
    # Worked by hand from the documented rules (docs/analytics.md): R and M are quintiles of the ten buyers.
    assert result == {
        1: (5, 5, 5, "Champions"),
        2: (4, 5, 4, "Champions"),
        3: (5, 1, 1, "New"),
        4: (4, 1, 1, "Promising"),
        5: (3, 3, 3, "Loyal"),
        6: (3, 2, 3, "Loyal"),
        7: (2, 5, 5, "Can't Lose"),
        8: (2, 4, 4, "At Risk"),
        9: (1, 1, 2, "Lost"),
        10: (1, 1, 2, "Lost"),
    }
    assert {s for *_, s in result.values()} <= {
        "Champions",
        "Loyal",
        "Potential Loyalists",
        "New",
        "Promising",
        "Need Attention",
        "About to Sleep",
        "Can't Lose",
        "At Risk",
        "Hibernating",
        "Lost",
    }


def test_month_partitions_are_created_for_the_days_rebuilt(tiny: Installation) -> None:
    tiny.sync_all()
    with tiny.runtime.db.engine.begin() as conn:
        rebuild_shop_day(conn, date(2031, 2, 3))
    query = "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE 'shop_daily_metrics_y2031%'"
    names = {n for (n,) in tiny.core(query)}
    assert names == {"shop_daily_metrics_y2031m02"}


def test_a_day_is_read_through_indexes_not_table_scans(tiny: Installation) -> None:
    """The rebuild of one day must cost that day's rows: no sequential scan of orders or snapshots."""
    tiny.sync_all()
    day = _busiest_day(tiny, tiny.shops[0].etsy_shop_id)
    with tiny.runtime.db.engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))  # small test tables: make the planner show its hand
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                text(
                    "EXPLAIN SELECT count(*) FROM core.orders o WHERE o.shop_id = ANY(:s) "
                    "AND o.etsy_created_at >= :lo AND o.etsy_created_at < :hi"
                ),
                {
                    "s": [s.shop_id for s in tiny.shops],
                    "lo": datetime(day.year, day.month, day.day, tzinfo=UTC),
                    "hi": datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1),
                },
            )
        )
        snapshots = "\n".join(
            row[0]
            for row in conn.execute(
                text("EXPLAIN SELECT count(*) FROM core.listing_snapshots WHERE snapshot_date = :d"), {"d": day}
            )
        )
    assert "ix_orders_shop_id_etsy_created_at" in plan
    assert "ix_listing_snapshots_snapshot_date" in snapshots


def test_customer_snapshots_are_kept_for_the_latest_day_and_month_ends(tiny: Installation) -> None:
    tiny.sync_all()
    days = [date(2026, 9, 29), date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 2)]
    _rebuild(tiny, days)
    kept = [d for (d,) in tiny.core("SELECT DISTINCT as_of_date FROM analytics.customers ORDER BY 1")]
    assert kept == [date(2026, 9, 30), date(2026, 10, 2)]
    scored = [d for (d,) in tiny.core("SELECT DISTINCT as_of_date FROM analytics.customer_segments ORDER BY 1")]
    assert scored == kept
