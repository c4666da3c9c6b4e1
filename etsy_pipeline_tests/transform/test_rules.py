"""The shared order rules (transform/rules.py) read hand-built orders as worked out by hand, and the analytics
queries take them from there instead of spelling their own copies."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.transform import analytics, analytics_reads
from etsy_pipeline.transform.rules import counted_order, customer_lifetime, net_sales
from etsy_pipeline_tests.factories import user_with_shop
from etsy_pipeline_tests.transform.by_hand import HandOrder, add_hand_orders

PLACED = datetime(2026, 4, 10, 12, 0, tzinfo=UTC)


def test_counted_orders_and_net_sales_of_hand_built_orders(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "rules@example.com")
    add_hand_orders(db, shop.id, [
        HandOrder(1, PLACED, [(2, "10.00")], discount="2.00", shipping="5.00", refunded="3.00",
                  status="partially refunded"),  # net 20 - 2 - 3 = 15
        HandOrder(1, PLACED + timedelta(hours=1), [(1, "50.00")], status="canceled"),  # does not count
        HandOrder(2, PLACED + timedelta(hours=2), [(1, "8.00")], tax="1.00", refunded="9.00",
                  status="fully refunded"),  # counts, net 8 - 9 = -1
    ])  # fmt: skip
    with db.engine.connect() as conn:
        orders, net = conn.execute(
            text(
                f"SELECT count(*), sum{net_sales('o')} FROM core.orders o WHERE o.shop_id = :s AND {counted_order('o')}"
            ),
            {"s": shop.id},
        ).one()
    assert (orders, net) == (2, Decimal("14.00"))


def test_a_buyers_lifetime_figures_of_hand_built_orders(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "lifetime@example.com")
    add_hand_orders(db, shop.id, [
        HandOrder(1, PLACED, [(2, "10.00")], shipping="4.00"),  # grand total 24
        HandOrder(1, PLACED + timedelta(days=3), [(1, "30.00")], refunded="6.00", status="partially refunded"),
        HandOrder(1, PLACED + timedelta(days=5), [(4, "10.00")], status="canceled"),
    ])  # fmt: skip
    figures = customer_lifetime("o", "u.units")
    with db.engine.connect() as conn:
        row = conn.execute(
            text(
                f"SELECT {', '.join(figures.values())} FROM core.orders o "
                "LEFT JOIN LATERAL (SELECT sum(i.quantity) AS units FROM core.order_items i WHERE i.order_id = o.id) u "
                f"ON true WHERE o.shop_id = :s AND {counted_order('o')} GROUP BY o.etsy_buyer_user_id"
            ),
            {"s": shop.id},
        ).one()
    found = dict(zip(figures, row, strict=True))
    assert found == {
        "first_order_at": PLACED,
        "last_order_at": PLACED + timedelta(days=3),
        "order_count": 2,
        "units": 3,
        "total_spent": Decimal("48.00"),  # 24 + 30 - 6
        "average_order_value": Decimal("24.0000"),
    }


def test_the_analytics_queries_take_the_rules_from_their_one_home() -> None:
    """A copy of a rule written out again would drift unnoticed: the modules that count orders use rules.py."""
    for module in (analytics, analytics_reads):
        source = inspect.getsource(module)
        assert "status <> 'canceled'" not in source, module.__name__
        assert "counted_order(" in source, module.__name__
    assert "grandtotal - o.refunded_amount" not in inspect.getsource(analytics)
