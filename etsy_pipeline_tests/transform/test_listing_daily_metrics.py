"""`analytics.listing_daily_metrics` against the emulator's own orders and the listing counters each sync saw."""

from __future__ import annotations

from datetime import date
from typing import Any

from etsy_pipeline_tests.transform.conftest import Prepared
from etsy_pipeline_tests.transform.expected import listing_day

COLUMNS = ("currency_code", "views_gained", "favorites_gained", "units_sold", "revenue", "stock_at_day_end")


def rows(p: Prepared, shop_id: int, day: date) -> dict[int, dict[str, Any]]:
    etsy = p.listing_ids()
    found = p.core(
        f"SELECT listing_id, {', '.join(COLUMNS)} FROM analytics.listing_daily_metrics "
        "WHERE shop_id = :s AND metric_date = :d",
        s=shop_id,
        d=day,
    )
    return {etsy[r[0]]: dict(zip(COLUMNS, r[1:], strict=True)) for r in found}


def test_each_listing_day_equals_an_independent_computation(prepared: Prepared) -> None:
    """Days before, at and after the snapshots: units and revenue of the orders that count, views and
    favorites gained since the previous snapshot, the stock of the last snapshot up to the day."""
    days = prepared.around(3, 2)
    prepared.rebuild(days)
    for shop in prepared.inst.shops:
        for day in days:
            expected = listing_day(prepared.state, shop.etsy_shop_id, day, snapshots=prepared.snapshots)
            assert rows(prepared, shop.shop_id, day) == expected, (shop.etsy_shop_id, day)
        on_day = listing_day(prepared.state, shop.etsy_shop_id, prepared.day, snapshots=prepared.snapshots)
        assert any(r["units_sold"] for r in on_day.values())
        assert any(r["views_gained"] for r in on_day.values()) and any(r["favorites_gained"] for r in on_day.values())
        later = listing_day(prepared.state, shop.etsy_shop_id, days[-1], snapshots=prepared.snapshots)
        before = listing_day(prepared.state, shop.etsy_shop_id, days[0], snapshots=prepared.snapshots)
        assert any(r["stock_at_day_end"] is not None for r in later.values())  # the last snapshot before
        assert all(r["stock_at_day_end"] is None for r in before.values())  # no snapshot yet


def test_the_canceled_order_of_the_day_sells_nothing(prepared: Prepared) -> None:
    prepared.rebuild([prepared.day])
    for shop in prepared.inst.shops:
        canceled = prepared.canceled_on_day[shop.etsy_shop_id]
        found = rows(prepared, shop.shop_id, prepared.day)
        expected = listing_day(prepared.state, shop.etsy_shop_id, prepared.day, snapshots=prepared.snapshots)
        for t in canceled.transactions:
            assert found[t.listing_id]["units_sold"] == expected[t.listing_id]["units_sold"]
            assert found[t.listing_id]["revenue"] == expected[t.listing_id]["revenue"]
