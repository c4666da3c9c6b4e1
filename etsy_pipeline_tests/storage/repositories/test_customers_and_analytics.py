from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from etsy_pipeline.storage.base import table_of
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import ShopDailyMetrics
from etsy_pipeline.storage.partitions import ensure_shop_daily_metrics_partitions
from etsy_pipeline.storage.repositories import InvalidArgumentError, NotFoundError, Repositories
from etsy_pipeline.storage.upsert import bulk_upsert
from etsy_pipeline_tests.factories import add_customers, user_with_shop


def test_top_customers_by_spend_and_by_orders(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    add_customers(db, shop.id, [Decimal("10"), Decimal("250.50"), Decimal("99.99"), Decimal("5")])
    top = repos.customers.top_customers(alice.id, shop.id, limit=2)
    assert [c.total_spent for c in top] == [Decimal("250.50"), Decimal("99.99")]
    by_orders = repos.customers.top_customers(alice.id, shop.id, limit=4, by="order_count")
    assert [c.order_count for c in by_orders] == [4, 3, 2, 1]
    bob, _ = user_with_shop(repos, "bob@example.com")
    with pytest.raises(NotFoundError):
        repos.customers.top_customers(bob.id, shop.id)
    with pytest.raises(InvalidArgumentError, match="by must be one of"):
        repos.customers.top_customers(alice.id, shop.id, by="email")  # type: ignore[arg-type]


def test_daily_metrics_for_a_range_across_month_partitions(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    days = [date(2026, 1, 30), date(2026, 1, 31), date(2026, 2, 1), date(2026, 2, 2)]
    with db.engine.begin() as conn:
        ensure_shop_daily_metrics_partitions(conn, days[0], days[-1])
        bulk_upsert(
            conn,
            table_of(ShopDailyMetrics),
            [
                {
                    "shop_id": shop.id,
                    "metric_date": d,
                    "currency_code": "USD",
                    "orders": n,
                    "net_sales": Decimal(n) * 10,
                }
                for n, d in enumerate(days, start=1)
            ],
            key=["shop_id", "metric_date", "currency_code"],
        )
    rows = repos.analytics.daily_metrics(alice.id, shop.id, date(2026, 1, 31), date(2026, 2, 1))
    assert [(r.metric_date, r.orders, r.net_sales) for r in rows] == [
        (date(2026, 1, 31), 2, Decimal("20")),
        (date(2026, 2, 1), 3, Decimal("30")),
    ]
    bob, _ = user_with_shop(repos, "bob@example.com")
    with pytest.raises(NotFoundError):
        repos.analytics.daily_metrics(bob.id, shop.id, days[0], days[-1])
    with pytest.raises(InvalidArgumentError, match="is before start"):
        repos.analytics.daily_metrics(alice.id, shop.id, days[-1], days[0])
