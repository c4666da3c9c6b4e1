"""Customers, per customer: `core.customers` (lifetime), `analytics.customers` (as of a day) and the RFM scores of
`analytics.customer_segments`, against the emulator's receipts, with canceled and refunded orders present."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.transform.analytics import rebuild_customers
from etsy_pipeline_tests.factories import user_with_shop
from etsy_pipeline_tests.transform.by_hand import HandOrder, add_hand_orders
from etsy_pipeline_tests.transform.conftest import Prepared
from etsy_pipeline_tests.transform.expected import buyers, customers_as_of, receipts_of, segments


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def test_core_customers_leave_out_canceled_orders_and_take_refunds_off_the_spend(prepared: Prepared) -> None:
    for shop in prepared.inst.shops:
        found = {
            buyer: (count, units, spent, _ts(first), _ts(last), currency)
            for buyer, count, units, spent, first, last, currency in prepared.core(
                "SELECT etsy_buyer_user_id, order_count, units, total_spent, first_order_at, last_order_at, "
                "currency_code FROM core.customers WHERE shop_id = :s",
                s=shop.shop_id,
            )
        }
        code = prepared.state.world.shops[shop.etsy_shop_id].currency.code
        expected = {
            buyer: (b.order_count, b.units, b.total_spent, b.first_order_at, b.last_order_at, code)
            for buyer, b in buyers(prepared.state, shop.etsy_shop_id).items()
        }
        assert found == expected
        _assert_the_rules_are_exercised(prepared, shop.etsy_shop_id, set(expected))


def _assert_the_rules_are_exercised(p: Prepared, etsy_shop_id: int, customers: set[int]) -> None:
    """A customer with a canceled order among others, one with a refund, a buyer whose only order was canceled."""
    mine = receipts_of(p.state, etsy_shop_id)
    canceled = {r.buyer_user_id for r in mine if r.status == "canceled"}
    assert canceled & customers  # canceled order, other orders kept
    assert canceled - customers  # only canceled orders: no customer
    assert any(r.refunded and r.status != "canceled" for r in mine)


def test_analytics_customers_as_of_a_day_per_customer(prepared: Prepared) -> None:
    """Orders placed up to the end of the day only: the refunds and cancellations of that day count."""
    prepared.rebuild([prepared.day])
    columns = ("order_count", "units", "total_spent", "average_order_value", "days_since_last_order")
    for shop in prepared.inst.shops:
        found = {
            r[0]: dict(zip(columns, r[1:6], strict=True)) | {"first_order_at": _ts(r[6]), "last_order_at": _ts(r[7])}
            for r in prepared.core(
                f"SELECT etsy_buyer_user_id, {', '.join(columns)}, first_order_at, last_order_at "
                "FROM analytics.customers WHERE shop_id = :s AND as_of_date = :d",
                s=shop.shop_id,
                d=prepared.day,
            )
        }
        expected = customers_as_of(prepared.state, shop.etsy_shop_id, prepared.day)
        assert found == expected
        assert len(expected) < len(buyers(prepared.state, shop.etsy_shop_id))  # later buyers are left out


def test_rfm_scores_and_segments_per_customer(prepared: Prepared) -> None:
    prepared.rebuild([prepared.day])
    columns = ("recency_days", "frequency", "monetary", "r_score", "f_score", "m_score", "segment")
    for shop in prepared.inst.shops:
        found = {
            r[0]: dict(zip(columns, r[1:], strict=True))
            for r in prepared.core(
                f"SELECT etsy_buyer_user_id, {', '.join(columns)} FROM analytics.customer_segments "
                "WHERE shop_id = :s AND as_of_date = :d",
                s=shop.shop_id,
                d=prepared.day,
            )
        }
        expected = segments(customers_as_of(prepared.state, shop.etsy_shop_id, prepared.day))
        assert found == expected
        assert len({e["segment"] for e in expected.values()}) >= 4  # a spread, not one bucket


def test_hand_built_customers_as_of_a_day(db: Database, repos: Repositories) -> None:
    """Worked by hand: a canceled order among others, a buyer with only a canceled order, partial and full
    refunds, an order after the day."""
    _, shop = user_with_shop(repos, "customers@example.com")
    day = date(2026, 5, 31)
    end = datetime(2026, 5, 31, 23, 59, 59, tzinfo=UTC)
    add_hand_orders(db, shop.id, [
        HandOrder(1, end - timedelta(days=40), [(1, "10.00")], shipping="2.00"),  # 12.00
        HandOrder(1, end - timedelta(days=10), [(2, "10.00")], status="canceled"),
        HandOrder(1, end - timedelta(days=3), [(1, "30.00")], refunded="5.00", status="partially refunded"),  # 25
        HandOrder(2, end - timedelta(days=5), [(1, "50.00")], status="canceled"),
        HandOrder(3, end - timedelta(hours=1), [(3, "8.00")], tax="1.00", refunded="25.00",
                  status="fully refunded"),  # 25.00 - 25.00
        HandOrder(3, end + timedelta(seconds=1), [(1, "99.00")]),  # the next day
    ])  # fmt: skip
    with db.engine.begin() as conn:
        rebuild_customers(conn, day, shop_ids=[shop.id])
        rows = conn.execute(
            text(
                "SELECT etsy_buyer_user_id, order_count, units, total_spent, average_order_value, "
                "days_since_last_order FROM analytics.customers WHERE shop_id = :s"
            ),
            {"s": shop.id},
        ).all()
    found: dict[int, tuple[Any, ...]] = {r[0]: tuple(r[1:]) for r in rows}
    assert found == {
        1: (2, 2, Decimal("37.00"), Decimal("18.5000"), 3),
        3: (1, 3, Decimal("0.00"), Decimal("0.0000"), 0),
    }
