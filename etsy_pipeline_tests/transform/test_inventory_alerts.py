"""Low-stock alerts: `analytics.inventory_alerts` and the repository's `low_stock`, against the emulator's stock,
with offerings set on Etsy exactly at, one above and below each shop's threshold (the default for the first
shop, its own `low_stock_threshold` for the second)."""

from __future__ import annotations

from typing import Any

from etsy_pipeline_tests.transform.conftest import Prepared
from etsy_pipeline_tests.transform.expected import inventory_alerts


def alerts(p: Prepared, shop_id: int) -> set[tuple[Any, ...]]:
    found = p.core(
        "SELECT l.etsy_listing_id, a.sku, a.quantity, a.threshold, a.kind FROM analytics.inventory_alerts a "
        "JOIN core.listings l ON l.id = a.listing_id WHERE a.shop_id = :s AND a.alert_date = :d",
        s=shop_id,
        d=p.day,
    )
    return {tuple(r) for r in found}


def test_an_offering_exactly_at_the_threshold_is_a_low_stock_alert(prepared: Prepared) -> None:
    prepared.rebuild([prepared.day])
    for shop in prepared.inst.shops:
        limit = prepared.thresholds[shop.etsy_shop_id]
        found = alerts(prepared, shop.shop_id)
        at, above = prepared.stock[shop.etsy_shop_id][limit], prepared.stock[shop.etsy_shop_id][limit + 1]
        assert (*at, limit, limit, "low_stock") in found
        assert not any(a[:2] == above for a in found)


def test_alerts_equal_the_emulators_low_offerings(prepared: Prepared) -> None:
    """Every enabled offering of an active or sold-out listing at or below the threshold, nothing else: a
    disabled offering and the stock of inactive, draft and expired listings raise none."""
    prepared.rebuild([prepared.day])
    for shop in prepared.inst.shops:
        limit = prepared.thresholds[shop.etsy_shop_id]
        expected = inventory_alerts(prepared.state, shop.etsy_shop_id, limit)
        assert alerts(prepared, shop.shop_id) == expected
        stock = prepared.stock[shop.etsy_shop_id]
        assert (*stock[0], 0, limit, "sold_out") in expected
        assert not any(a[:2] == stock[1] for a in expected)  # quantity 1, disabled
    listings = prepared.state.world.listings.values()
    assert any(
        x.state not in ("active", "sold_out") and any(p.offering.quantity <= 3 for p in x.inventory.products)
        for x in listings
    )  # the listing-state rule is exercised


def test_the_repository_lists_offerings_exactly_at_the_threshold(prepared: Prepared) -> None:
    """`ListingRepository.low_stock` (active listings, the shop's threshold or the default) on the same stock."""
    repos = prepared.inst.runtime.repos
    for shop in prepared.inst.shops:
        limit = prepared.thresholds[shop.etsy_shop_id]
        got = {(v.etsy_listing_id, v.sku, v.quantity) for v in repos.listings.low_stock(shop.user_id, shop.shop_id)}
        active = {x.listing_id for x in prepared.state.world.listings.values() if x.state == "active"}
        expected = {a[:3] for a in inventory_alerts(prepared.state, shop.etsy_shop_id, limit) if a[0] in active}
        assert got == expected
        assert (*prepared.stock[shop.etsy_shop_id][limit], limit) in got
