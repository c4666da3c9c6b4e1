from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import InvalidArgumentError, NotFoundError, Repositories
from etsy_pipeline_tests.factories import BASE_TIME, add_orders, user_with_shop


def test_orders_in_a_date_range_newest_first(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    add_orders(db, shop.id, 48)  # one per hour from BASE_TIME
    start, end = BASE_TIME + timedelta(hours=10), BASE_TIME + timedelta(hours=20)
    page = repos.orders.by_shop(alice.id, shop.id, start=start, end=end)
    times = [o.etsy_created_at for o in page.items]
    assert len(times) == 10
    assert times == sorted(times, reverse=True)
    assert min(times) == start and max(times) == end - timedelta(hours=1)


def test_orders_paginate_without_gaps_or_repeats_on_equal_times(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    ids = add_orders(db, shop.id, 25, etsy_created_at=BASE_TIME)  # all at the same moment
    ids += add_orders(db, shop.id, 10)
    seen: list[int] = []
    after = None
    while True:
        page = repos.orders.by_shop(alice.id, shop.id, after=after, limit=7)
        seen += [o.id for o in page.items]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))


def test_orders_by_status(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    add_orders(db, shop.id, 3, status="paid")
    shipped = add_orders(db, shop.id, 2, status="completed", is_shipped=True)
    page = repos.orders.by_status(alice.id, shop.id, "completed")
    assert sorted(o.id for o in page.items) == sorted(shipped)
    assert all(o.is_shipped for o in page.items)


def test_orders_are_scoped_and_arguments_checked(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    bob, _ = user_with_shop(repos, "bob@example.com")
    add_orders(db, shop.id, 1)
    with pytest.raises(NotFoundError):
        repos.orders.by_shop(bob.id, shop.id)
    with pytest.raises(InvalidArgumentError, match="start must be timezone-aware"):
        repos.orders.by_shop(alice.id, shop.id, start=datetime(2026, 1, 1))
    with pytest.raises(InvalidArgumentError, match="is before start"):
        repos.orders.by_shop(alice.id, shop.id, start=BASE_TIME, end=BASE_TIME - timedelta(days=1))
    with pytest.raises(InvalidArgumentError, match="after must be a cursor"):
        repos.orders.by_shop(alice.id, shop.id, after="yesterday")
