"""A backfill rebuilds the days, and what the repositories serve from Redis afterwards is the rebuilt rows."""

from __future__ import annotations

from collections import Counter
from datetime import date

from etsy_pipeline.transform.backfill import backfill
from etsy_pipeline_tests.transform.conftest import Prepared
from etsy_pipeline_tests.transform.expected import day_of, live_receipts, shop_day


def _busy_days(p: Prepared) -> list[date]:
    """The first shop's busiest days that no other test builds."""
    others = set(p.around(3, 3))
    counts = Counter(day_of(r.created) for r in live_receipts(p.state, p.inst.shops[0].etsy_shop_id))
    return [d for d, _ in counts.most_common() if d not in others]


def _served(p: Prepared, day: date) -> list[tuple[int, int]]:
    shop = p.inst.shops[0]
    rows = p.inst.runtime.repos.analytics.daily_metrics(shop.user_id, shop.shop_id, day, day)
    return [(m.orders, m.items_sold) for m in rows]


def _built(p: Prepared, day: date) -> list[tuple[int, int]]:
    expected = shop_day(p.state, p.inst.shops[0].etsy_shop_id, day)
    assert expected["orders"] > 0
    return [(expected["orders"], expected["items_sold"])]


def test_a_backfill_of_one_shop_refreshes_its_cached_daily_metrics(prepared: Prepared) -> None:
    day = _busy_days(prepared)[0]
    assert _served(prepared, day) == []  # nothing built yet, and now cached
    backfill(prepared.inst.runtime, day, day, shop_ids=[prepared.inst.shops[0].shop_id])
    assert _served(prepared, day) == _built(prepared, day)


def test_a_backfill_of_every_shop_refreshes_cached_daily_metrics(prepared: Prepared) -> None:
    """Fails today: `transform/backfill.py` invalidates the cache only for the shops it was given
    (`for shop_id in shop_ids or []`), so a backfill of every shop leaves each shop's cached metrics stale
    for the analytics TTL (an hour by default)."""
    day = _busy_days(prepared)[1]
    assert _served(prepared, day) == []
    backfill(prepared.inst.runtime, day, day)
    assert _served(prepared, day) == _built(prepared, day)
