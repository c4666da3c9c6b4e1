"""A range rebuilt set-based (one statement per table) holds exactly what its days rebuilt one by one hold, in
every analytics table, row for row; and on the synced installation it equals the independent computation.

Both sides are built in one transaction that is rolled back, so the shared `prepared` installation is left as
the other tests expect it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.transform.analytics import (
    keeps_customer_snapshot,
    rebuild_customers,
    rebuild_inventory_alerts,
    rebuild_listing_day,
    rebuild_range,
    rebuild_segments,
    rebuild_shop_day,
)
from etsy_pipeline_tests.factories import add_inventory, add_listings, next_id, user_with_shop
from etsy_pipeline_tests.transform.by_hand import HandOrder, add_hand_orders
from etsy_pipeline_tests.transform.conftest import DEFAULT_THRESHOLD, Prepared
from etsy_pipeline_tests.transform.expected import customers_as_of, day_of, receipts_of, shop_day

TABLES = {  # table -> its key columns (every column is compared)
    "shop_daily_metrics": "shop_id, metric_date, currency_code",
    "listing_daily_metrics": "metric_date, listing_id",
    "customers": "as_of_date, shop_id, etsy_buyer_user_id",
    "customer_segments": "as_of_date, shop_id, etsy_buyer_user_id",
    "inventory_alerts": "alert_date, inventory_id",
}
Tables = dict[str, list[tuple[Any, ...]]]


def _all_rows(conn: Connection) -> Tables:
    return {
        t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM analytics.{t} ORDER BY {k}"))]
        for t, k in TABLES.items()
    }


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _one_by_one(conn: Connection, start: date, end: date, tz: str) -> Tables:
    """Each day by the one-table functions the Dagster assets call, so the range's single statement for customers
    and segments is compared with customers built alone and segments scored from the customers table."""
    for day in _days(start, end):
        rebuild_shop_day(conn, day, tz=tz)
        rebuild_listing_day(conn, day, tz=tz)
        rebuild_inventory_alerts(conn, day, default_threshold=DEFAULT_THRESHOLD)
        if keeps_customer_snapshot(day, end):
            rebuild_customers(conn, day, tz=tz)
            rebuild_segments(conn, day)
    return _all_rows(conn)


def _as_a_range(conn: Connection, start: date, end: date, tz: str) -> Tables:
    rebuild_range(conn, start, end, tz=tz, default_threshold=DEFAULT_THRESHOLD)
    return _all_rows(conn)


@contextmanager
def _rolled_back(conn: Connection) -> Iterator[Connection]:
    trans = conn.begin()
    try:
        yield conn
    finally:
        trans.rollback()


def _month_ends(start: date, end: date) -> list[date]:
    return [d for d in _days(start, end) if (d + timedelta(days=1)).day == 1]


def _assert_equal_table_by_table(one_by_one: Tables, ranged: Tables) -> None:
    for table in TABLES:
        assert ranged[table] == one_by_one[table], table
        assert ranged[table], f"{table} is empty: the comparison would prove nothing"


def test_a_range_equals_its_days_one_by_one_and_the_independent_computation(prepared: Prepared) -> None:
    """Six weeks around the busy day in a zone west of UTC: canceled orders, refunds, a month end (customer
    snapshots and segments), the listings' first snapshot and the next one (views gained), days after the last
    snapshot (stock carried from it); then a range starting on the second snapshot (its previous snapshot lies
    before the range)."""
    tz = "America/Los_Angeles"
    start, end = prepared.day - timedelta(days=35), prepared.day + timedelta(days=5)
    shops = prepared.inst.shops
    with prepared.inst.runtime.db.engine.connect() as conn, _rolled_back(conn):
        one_by_one = _one_by_one(conn, start, end, tz)
        ranged = _as_a_range(conn, start, end, tz)
        _assert_equal_table_by_table(one_by_one, ranged)
        for shop in shops:
            found = conn.execute(
                text(
                    "SELECT metric_date, orders, items_sold, gross_sales, refunds, net_sales, new_buyers, "
                    "views_gained, favorites_gained, reviews FROM analytics.shop_daily_metrics "
                    "WHERE shop_id = :s AND metric_date BETWEEN :a AND :b"
                ),
                {"s": shop.shop_id, "a": start, "b": end},
            ).all()
            columns = ("orders", "items_sold", "gross_sales", "refunds", "net_sales", "new_buyers", "views_gained",
                       "favorites_gained", "reviews")  # fmt: skip
            expected = {
                d: tuple(e[c] for c in columns)
                for d in _days(start, end)
                for e in [shop_day(prepared.state, shop.etsy_shop_id, d, tz=tz, snapshots=prepared.snapshots)]
            }
            assert {r[0]: tuple(r[1:]) for r in found} == expected, shop.etsy_shop_id
            month_end = _month_ends(start, end)[0]
            customers = conn.execute(
                text(
                    "SELECT etsy_buyer_user_id, order_count, total_spent, days_since_last_order "
                    "FROM analytics.customers WHERE shop_id = :s AND as_of_date = :d"
                ),
                {"s": shop.shop_id, "d": month_end},
            ).all()
            truth = customers_as_of(prepared.state, shop.etsy_shop_id, month_end, tz=tz)
            assert {r[0]: tuple(r[1:]) for r in customers} == {
                b: (c["order_count"], c["total_spent"], c["days_since_last_order"]) for b, c in truth.items()
            }
        # What the range exercised: canceled orders and refunds in it, views gained, stock carried past snapshots.
        mine = [r for s in shops for r in receipts_of(prepared.state, s.etsy_shop_id)]
        assert any(r.status == "canceled" and start <= day_of(r.created, tz) <= end for r in mine)
        assert any(r.refunded and r.status != "canceled" and start <= day_of(r.created, tz) <= end for r in mine)
        assert sorted({r[0] for r in ranged["customers"]}) == [*_month_ends(start, end), end]
        assert any(r[4] > 0 for r in ranged["listing_daily_metrics"])  # views_gained
        carried = [r for r in ranged["listing_daily_metrics"] if r[0] > prepared.day and r[8] is not None]
        assert carried  # sold after the last snapshot: its stock is the snapshot's

        start = prepared.day  # the second snapshot grows from the first, which lies before the range
        one_by_one = _one_by_one(conn, start, start + timedelta(days=3), tz)
        ranged = _as_a_range(conn, start, start + timedelta(days=3), tz)
        _assert_equal_table_by_table(one_by_one, ranged)
        assert any(r[0] == start and r[4] > 0 for r in ranged["listing_daily_metrics"])


def _shop(db: Database, repos: Repositories, name: str, currency: str) -> tuple[int, int]:
    """A shop in `currency` with one listing; returns (shop id, listing id)."""
    _, shop = user_with_shop(repos, f"{name}@example.com", name)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE core.shops SET currency_code = :c WHERE id = :s"), {"c": currency, "s": shop.id})
    [listing] = add_listings(db, shop.id, [{"currency_code": currency, "price": Decimal(1200)}])
    add_inventory(db, shop.id, listing, [0, 2, 40])
    return shop.id, listing


def _snapshot(db: Database, listing: int, day: date, views: int, favorites: int, quantity: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO core.listing_snapshots (listing_id, snapshot_date, views, num_favorers, quantity, state) "
                "VALUES (:l, :d, :v, :f, :q, 'active')"
            ),
            {"l": listing, "d": day, "v": views, "f": favorites, "q": quantity},
        )


def _payment_and_review(db: Database, shop_id: int, currency: str, at: datetime) -> None:
    """A payment (fees adjusted by a refund) for the shop's latest order, and a review left at `at`."""
    with db.engine.begin() as conn:
        order_id, receipt = conn.execute(
            text("SELECT id, etsy_receipt_id FROM core.orders WHERE shop_id = :s ORDER BY etsy_created_at DESC"),
            {"s": shop_id},
        ).first() or (0, 0)
        conn.execute(
            text(
                "INSERT INTO core.payments (etsy_payment_id, shop_id, order_id, etsy_receipt_id, currency_code, gross, "
                "fees, net, adjusted_fees, adjusted_net, etsy_created_at) "
                "VALUES (:p, :s, :o, :r, :c, 4500, 429, 4071, 400, 2600, :at)"
            ),
            {"p": next_id(), "s": shop_id, "o": order_id, "r": receipt, "c": currency, "at": at},
        )
        conn.execute(
            text(
                "INSERT INTO core.reviews (etsy_transaction_id, shop_id, rating, etsy_created_at) "
                "VALUES (:t, :s, 4, :at)"
            ),
            {"t": next_id(), "s": shop_id, "at": at},
        )


def test_a_hand_built_range_with_yen_dollars_and_a_month_end_equals_its_days(db: Database, repos: Repositories) -> None:
    """Worked by hand around the end of March in Tokyo time: a yen shop and a dollar shop that also sold in euros;
    orders just before and after local midnight (the other UTC day), canceled ones (a buyer whose only order is
    canceled), partial and full refunds, a payment with adjusted fees, a review, listing snapshots with a first
    one and a gap, and inventory at and around the threshold."""
    tz = "Asia/Tokyo"  # UTC+9: 2026-03-31 16:00 UTC is already April 1st
    yen, yen_listing = _shop(db, repos, "yen", "JPY")
    usd, usd_listing = _shop(db, repos, "usd", "USD")
    base = datetime(2026, 3, 27, 3, 0, tzinfo=UTC)
    for shop, listing, currency in ((yen, yen_listing, "JPY"), (usd, usd_listing, "USD")):
        add_hand_orders(db, shop, [
            HandOrder(1, base, [(2, "1500")], listing_id=listing),
            HandOrder(1, base + timedelta(days=2), [(1, "900")], refunded="300", status="partially refunded",
                      listing_id=listing),
            HandOrder(2, base + timedelta(days=2, hours=5), [(1, "700")], status="canceled", listing_id=listing),
            HandOrder(3, datetime(2026, 3, 31, 14, 59, tzinfo=UTC), [(3, "100")], listing_id=listing),  # 23:59 JST
            HandOrder(3, datetime(2026, 3, 31, 15, 1, tzinfo=UTC), [(1, "100")], refunded="100",
                      status="fully refunded", listing_id=listing),  # April 1st in Tokyo
            HandOrder(4, datetime(2026, 4, 2, 1, 0, tzinfo=UTC), [(1, "2500")], listing_id=listing),
        ], currency=currency)  # fmt: skip
        _payment_and_review(db, shop, currency, datetime(2026, 3, 30, 10, 0, tzinfo=UTC))
        for day, views, favorites, quantity in ((date(2026, 3, 28), 10, 1, 9), (date(2026, 3, 29), 25, 3, 8),
                                                (date(2026, 4, 1), 40, 2, 5)):  # fmt: skip
            _snapshot(db, listing, day, views, favorites, quantity)
    add_hand_orders(db, usd, [HandOrder(5, base + timedelta(days=3), [(1, "80")], listing_id=usd_listing)],
                    currency="EUR")  # fmt: skip
    start, end = date(2026, 3, 26), date(2026, 4, 3)
    with db.engine.connect() as conn, _rolled_back(conn):
        one_by_one = _one_by_one(conn, start, end, tz)
        ranged = _as_a_range(conn, start, end, tz)
        _assert_equal_table_by_table(one_by_one, ranged)
        currencies = {(r[0], r[2]) for r in ranged["shop_daily_metrics"]}
        assert {(yen, "JPY"), (usd, "USD"), (usd, "EUR")} <= currencies
        assert sorted({r[0] for r in ranged["customers"]}) == [date(2026, 3, 31), end]
        orders = {(r[0], r[1]): r[3] for r in ranged["shop_daily_metrics"] if r[2] != "EUR"}
        assert orders[(yen, date(2026, 3, 31))] == 1 and orders[(yen, date(2026, 4, 1))] == 1  # split at midnight JST
