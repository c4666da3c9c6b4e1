"""The analyst views over hand-built analytics rows, with expectations worked out by hand.

The views look back from the database's `current_date`, so the rows are dated relative to it, written in a
transaction that is rolled back (the shared installation is left as it was). The day exactly 30 days back is
outside the window, the 29th inside; ties share a rank; only each shop's latest scoring is sized.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.storage.partitions import ensure_shop_daily_metrics_partitions
from etsy_pipeline_tests.transform.conftest import Prepared


@contextmanager
def rolled_back(p: Prepared) -> Iterator[tuple[Connection, date]]:
    with p.inst.runtime.db.engine.connect() as conn:
        tx = conn.begin()
        try:
            today: date = conn.execute(text("SELECT current_date")).scalar_one()
            for table in ("shop_daily_metrics", "listing_daily_metrics", "customer_segments"):
                conn.execute(text(f"DELETE FROM analytics.{table}"))
            yield conn, today
        finally:
            tx.rollback()


def _insert(conn: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    conn.execute(
        text(f"INSERT INTO analytics.{table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"),
        rows,
    )


def _shops(p: Prepared) -> tuple[Any, Any]:
    a, b = p.inst.shops
    return a, b


def test_sales_last_30_days_sums_the_days_of_the_window_per_shop_and_currency(prepared: Prepared) -> None:
    a, b = _shops(prepared)
    with rolled_back(prepared) as (conn, today):
        ensure_shop_daily_metrics_partitions(conn, today - timedelta(days=31), today)

        def day(shop: int, ago: int, currency: str, orders: int, items: int, gross: str, disc: str, refunds: str,
                new: int, returning: int) -> dict[str, Any]:  # fmt: skip
            g, d, r = Decimal(gross), Decimal(disc), Decimal(refunds)
            fees = (g / 10).quantize(Decimal("0.01"))  # a tenth of the day's sales, as a recognisable figure
            return {"shop_id": shop, "metric_date": today - timedelta(days=ago), "currency_code": currency,
                    "orders": orders, "items_sold": items, "gross_sales": g, "discounts": d, "refunds": r,
                    "net_sales": g - d - r, "new_buyers": new, "returning_buyers": returning, "etsy_fees": fees,
                    "net_revenue_after_fees": g - r - fees}  # fmt: skip

        _insert(conn, "shop_daily_metrics", [
            day(a.shop_id, 0, "USD", 2, 3, "50.00", "5.00", "10.00", 1, 1),
            day(a.shop_id, 29, "USD", 1, 1, "20.00", "0", "0", 1, 0),
            day(a.shop_id, 30, "USD", 9, 9, "900.00", "0", "0", 9, 0),  # a day too old
            day(a.shop_id, 2, "EUR", 1, 2, "10.00", "0", "0", 0, 1),
            day(b.shop_id, 1, "EUR", 3, 3, "33.33", "0", "3.33", 2, 1),
            day(b.shop_id, 5, "EUR", 0, 0, "0", "0", "0", 0, 0),  # a quiet day
        ])  # fmt: skip
        found = {
            (r.shop_id, r.currency_code): r._asdict()
            for r in conn.execute(text("SELECT * FROM analytics.sales_last_30_days"))
        }
    names = dict(prepared.core("SELECT id, shop_name FROM core.shops"))
    zero = Decimal(0)
    assert found == {
        (a.shop_id, "USD"): {"shop_id": a.shop_id, "shop_name": names[a.shop_id], "currency_code": "USD",
                             "orders": 3, "items_sold": 4, "gross_sales": Decimal("70.00"),
                             "discounts": Decimal("5.00"), "refunds": Decimal("10.00"), "net_sales": Decimal("55.00"),
                             "average_order_value": Decimal("21.67"), "new_buyers": 2, "returning_buyers": 1,
                             "etsy_fees": Decimal("7.00"), "net_revenue_after_fees": Decimal("53.00")},
        (a.shop_id, "EUR"): {"shop_id": a.shop_id, "shop_name": names[a.shop_id], "currency_code": "EUR",
                             "orders": 1, "items_sold": 2, "gross_sales": Decimal("10.00"), "discounts": zero,
                             "refunds": zero, "net_sales": Decimal("10.00"), "average_order_value": Decimal("10.00"),
                             "new_buyers": 0, "returning_buyers": 1, "etsy_fees": Decimal("1.00"),
                             "net_revenue_after_fees": Decimal("9.00")},
        (b.shop_id, "EUR"): {"shop_id": b.shop_id, "shop_name": names[b.shop_id], "currency_code": "EUR",
                             "orders": 3, "items_sold": 3, "gross_sales": Decimal("33.33"), "discounts": zero,
                             "refunds": Decimal("3.33"), "net_sales": Decimal("30.00"),
                             "average_order_value": Decimal("11.11"), "new_buyers": 2, "returning_buyers": 1,
                             "etsy_fees": Decimal("3.33"), "net_revenue_after_fees": Decimal("26.67")},
    }  # fmt: skip


def test_best_listings_last_30_days_ranks_revenue_within_each_shop(prepared: Prepared) -> None:
    a, b = _shops(prepared)
    listings = {
        shop: [
            (i, e, t)
            for i, e, t in prepared.core(
                "SELECT id, etsy_listing_id, title FROM core.listings WHERE shop_id = :s ORDER BY id LIMIT 3", s=shop
            )
        ]
        for shop in (a.shop_id, b.shop_id)
    }
    (l1, l2, l3), (l4, *_) = listings[a.shop_id], listings[b.shop_id]
    with rolled_back(prepared) as (conn, today):

        def row(shop: int, listing: int, ago: int, units: int, revenue: str, views: int) -> dict[str, Any]:
            return {"metric_date": today - timedelta(days=ago), "listing_id": listing, "shop_id": shop,
                    "units_sold": units, "revenue": Decimal(revenue), "views_gained": views}  # fmt: skip

        _insert(conn, "listing_daily_metrics", [
            row(a.shop_id, l1[0], 0, 2, "40.00", 10),
            row(a.shop_id, l1[0], 29, 1, "20.00", 5),
            row(a.shop_id, l2[0], 1, 3, "60.00", 1),  # ties with l1: both first
            row(a.shop_id, l3[0], 3, 1, "15.00", 0),
            row(a.shop_id, l3[0], 30, 9, "900.00", 99),  # a day too old
            row(b.shop_id, l4[0], 7, 1, "5.00", 2),
        ])  # fmt: skip
        found = {
            r.listing_id: tuple(r)
            for r in conn.execute(
                text(
                    "SELECT shop_id, listing_id, etsy_listing_id, title, units_sold, revenue, views_gained, "
                    "revenue_rank FROM analytics.best_listings_last_30_days"
                )
            )
        }
    assert found == {
        l1[0]: (a.shop_id, *l1, 3, Decimal("60.00"), 15, 1),
        l2[0]: (a.shop_id, *l2, 3, Decimal("60.00"), 1, 1),
        l3[0]: (a.shop_id, *l3, 1, Decimal("15.00"), 0, 3),
        l4[0]: (b.shop_id, *l4, 1, Decimal("5.00"), 2, 1),
    }


def test_segment_sizes_count_each_shops_latest_scoring(prepared: Prepared) -> None:
    a, b = _shops(prepared)
    with rolled_back(prepared) as (conn, today):
        older, latest = today - timedelta(days=40), today - timedelta(days=1)

        def scored(shop: int, as_of: date, buyer: int, segment: str, monetary: str) -> dict[str, Any]:
            return {"as_of_date": as_of, "shop_id": shop, "etsy_buyer_user_id": buyer, "recency_days": 1,
                    "frequency": 1, "monetary": Decimal(monetary), "r_score": 1, "f_score": 1, "m_score": 1,
                    "segment": segment}  # fmt: skip

        _insert(conn, "customer_segments", [
            scored(a.shop_id, older, 1, "Lost", "1.00"),  # superseded by the latest scoring
            scored(a.shop_id, older, 9, "At Risk", "7.00"),
            scored(a.shop_id, latest, 1, "Champions", "100.00"),
            scored(a.shop_id, latest, 2, "Champions", "50.50"),
            scored(a.shop_id, latest, 3, "New", "9.99"),
            scored(b.shop_id, older, 4, "Loyal", "20.00"),  # shop b was last scored earlier: still sized
        ])  # fmt: skip
        found = {
            (r.shop_id, r.segment): (r.as_of_date, r.customers, r.monetary)
            for r in conn.execute(text("SELECT * FROM analytics.segment_sizes"))
        }
    assert found == {
        (a.shop_id, "Champions"): (latest, 2, Decimal("150.50")),
        (a.shop_id, "New"): (latest, 1, Decimal("9.99")),
        (b.shop_id, "Loyal"): (older, 1, Decimal("20.00")),
    }
