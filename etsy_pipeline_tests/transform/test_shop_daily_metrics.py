"""`analytics.shop_daily_metrics`, every column, against the emulator's own orders, reviews and the listing
counters each sync saw (transform/expected.py), on days that hold canceled orders and refunds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.transform.analytics import rebuild_shop_day
from etsy_pipeline_tests.factories import user_with_shop
from etsy_pipeline_tests.transform.by_hand import HandOrder, add_hand_orders
from etsy_pipeline_tests.transform.conftest import Prepared
from etsy_pipeline_tests.transform.expected import day_of, receipts_of, shop_day

COLUMNS = (
    "currency_code", "orders", "items_sold", "gross_sales", "discounts", "shipping", "tax", "refunds", "net_sales",
    "average_order_value", "distinct_buyers", "new_buyers", "returning_buyers", "views_gained", "favorites_gained",
    "orders_per_1000_views", "repeat_customer_rate", "reviews", "average_rating",
)  # fmt: skip


def rows(p: Prepared, shop_id: int, days: list[date]) -> dict[date, dict[str, Any]]:
    found = p.core(
        f"SELECT metric_date, {', '.join(COLUMNS)} FROM analytics.shop_daily_metrics "
        "WHERE shop_id = :s AND metric_date = ANY(:d)",
        s=shop_id,
        d=days,
    )
    return {r[0]: dict(zip(COLUMNS, r[1:], strict=True)) for r in found}


def test_every_column_of_days_with_canceled_orders_and_refunds_equals_an_independent_computation(
    prepared: Prepared,
) -> None:
    days = prepared.around(3, 3)
    prepared.rebuild(days)
    for shop in prepared.inst.shops:
        expected = {d: shop_day(prepared.state, shop.etsy_shop_id, d, snapshots=prepared.snapshots) for d in days}
        assert rows(prepared, shop.shop_id, days) == expected, shop.etsy_shop_id
        # The day exercises every rule: a canceled order, refunds, views, returning buyers somewhere in the range.
        mine = receipts_of(prepared.state, shop.etsy_shop_id)
        assert any(r.status == "canceled" and day_of(r.created) == prepared.day for r in mine)
        assert expected[prepared.day]["refunds"] > 0 and expected[prepared.day]["views_gained"] > 0
        assert expected[prepared.day]["favorites_gained"] > 0
        assert any(e["returning_buyers"] > 0 for e in expected.values())
        assert any(e["reviews"] > 0 for e in expected.values())


def test_canceled_orders_are_left_out_of_the_daily_metrics(prepared: Prepared) -> None:
    """The canceled order of the day adds nothing: not an order, not its units, money or buyer."""
    prepared.rebuild([prepared.day])
    for shop in prepared.inst.shops:
        canceled = prepared.canceled_on_day[shop.etsy_shop_id]
        assert canceled.status == "canceled"
        divisor = Decimal(prepared.state.world.shops[shop.etsy_shop_id].currency.divisor)
        placed = [r for r in receipts_of(prepared.state, shop.etsy_shop_id) if day_of(r.created) == prepared.day]
        kept = [r for r in placed if r.status != "canceled"]
        row = rows(prepared, shop.shop_id, [prepared.day])[prepared.day]
        assert row["orders"] == len(kept) < len(placed)
        assert row["items_sold"] == sum(t.quantity for r in kept for t in r.transactions)
        assert row["gross_sales"] == sum(Decimal(r.total_price) for r in kept) / divisor
        assert row["shipping"] == sum(Decimal(r.shipping) for r in kept) / divisor
        assert row["distinct_buyers"] == len({r.buyer_user_id for r in kept})


def test_a_day_is_the_calendar_day_of_the_analytics_time_zone(prepared: Prepared) -> None:
    """Rebuilt in a zone far from UTC, orders move to the local day they were placed on."""
    tz = "Pacific/Kiritimati"  # UTC+14: most of a UTC day is the next local day
    days = prepared.around(1, 1)
    prepared.rebuild(days, tz=tz)
    try:
        for shop in prepared.inst.shops:
            mine = receipts_of(prepared.state, shop.etsy_shop_id)
            assert any(day_of(r.created, tz) != day_of(r.created) and day_of(r.created) in days for r in mine)
            expected = {
                d: shop_day(prepared.state, shop.etsy_shop_id, d, tz=tz, snapshots=prepared.snapshots) for d in days
            }
            assert rows(prepared, shop.shop_id, days) == expected
    finally:
        prepared.rebuild(days)  # back to UTC for the other tests


MIDNIGHT = datetime(2026, 3, 10, tzinfo=UTC)


def test_a_hand_built_day_with_vat_gift_wrap_midnight_orders_and_a_canceled_first_order(
    db: Database, repos: Repositories
) -> None:
    """Worked by hand. Money fields the emulator leaves at zero (VAT, gift wrap), the day's first and last
    second, a buyer whose only earlier order was canceled (new that day), a returning buyer, a full refund."""
    _, shop = user_with_shop(repos, "day@example.com")
    day = MIDNIGHT.date()
    add_hand_orders(db, shop.id, [
        # buyer 1, placed at 00:00:00 exactly: the day's, and the buyer's first
        HandOrder(1, MIDNIGHT, [(2, "10.00")], discount="2.00", shipping="5.00", tax="1.50", vat="0.50",
                  gift_wrap="3.00", refunded="4.00"),
        # buyer 2: a canceled order a week before, then this one at 23:59:59: new today
        HandOrder(2, MIDNIGHT - timedelta(days=9), [(1, "40.00")], status="canceled"),
        HandOrder(2, MIDNIGHT + timedelta(days=1, seconds=-1), [(1, "15.00")], shipping="3.00", vat="1.20"),
        # buyer 3: ordered before, so returning; fully refunded today, still an order of the day
        HandOrder(3, MIDNIGHT - timedelta(days=18), [(1, "9.00")]),
        HandOrder(3, MIDNIGHT + timedelta(hours=12), [(3, "10.00")], discount="5.00", tax="2.00",
                  refunded="27.00", status="fully refunded"),
        # canceled today, and placed at the next day's first second: neither counts
        HandOrder(5, MIDNIGHT + timedelta(hours=8), [(4, "25.00")], status="canceled"),
        HandOrder(4, MIDNIGHT + timedelta(days=1), [(1, "50.00")]),
    ])  # fmt: skip
    with db.engine.begin() as conn:
        rebuild_shop_day(conn, day, shop_ids=[shop.id])
        found = conn.execute(
            text(f"SELECT {', '.join(COLUMNS)} FROM analytics.shop_daily_metrics WHERE shop_id = :s"), {"s": shop.id}
        ).one()
    assert dict(zip(COLUMNS, found, strict=True)) == {
        "currency_code": "USD",
        "orders": 3,
        "items_sold": 2 + 1 + 3,
        "gross_sales": Decimal("65.00"),  # 20 + 15 + 30
        "discounts": Decimal("7.00"),
        "shipping": Decimal("8.00"),
        "tax": Decimal("5.20"),  # sales tax 1.50 + 2.00, VAT 0.50 + 1.20
        "refunds": Decimal("31.00"),
        "net_sales": Decimal("27.00"),  # 65 - 7 - 31
        "average_order_value": Decimal("19.3333"),  # (65 - 7) / 3
        "distinct_buyers": 3,
        "new_buyers": 2,  # buyers 1 and 2
        "returning_buyers": 1,  # buyer 3
        "views_gained": 0,
        "favorites_gained": 0,
        "orders_per_1000_views": None,
        "repeat_customer_rate": Decimal("0.3333"),
        "reviews": 0,
        "average_rating": None,
    }
