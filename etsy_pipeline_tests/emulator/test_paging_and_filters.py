from __future__ import annotations

from typing import Any

import pytest

from etsy_pipeline_tests.emulator.conftest import Seller


def _all(seller: Seller, path: str, **params: Any) -> tuple[int, list[dict[str, Any]]]:
    results: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = seller.get(path, limit=100, offset=offset, **params).json()
        results += page["results"]
        offset += 100
        if len(page["results"]) < 100:  # a short page is the last (overlapping pages run past `count`)
            return page["count"], results


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": 101}, "Invalid value for limit: 101 is greater than the maximum of 100"),
        ({"limit": 0}, "Invalid value for limit: 0 is less than the minimum of 1"),
        ({"offset": 12_001}, "Offset provided is greater than the maximum offset allowed"),
        ({"limit": "ten"}, "Invalid value for limit: expected an integer, got 'ten'"),
        ({"sort_on": "price"}, "Invalid value for sort_on: 'price' is not one of created, updated, receipt_id"),
        ({"was_paid": "maybe"}, "Invalid value for was_paid: expected a boolean, got 'maybe'"),
        ({"min_created": 5}, "Invalid value for min_created: 5 is less than the minimum of 946684800"),
    ],
)
def test_bad_parameters_are_400s_naming_the_parameter(seller: Seller, params: dict[str, Any], message: str) -> None:
    response = seller.get(f"/shops/{seller.shop_id}/receipts", **params)
    assert response.status_code == 400
    assert response.json() == {"error": message}


def test_unknown_paths_are_404_with_etsys_body(seller: Seller) -> None:
    response = seller.get("/shops/1/unknown-thing")
    assert response.status_code == 404
    assert set(response.json()) == {"error"}
    assert seller.get("/shops/abc").status_code == 400


def test_listing_pages_can_overlap_and_cover_every_listing(seller: Seller) -> None:
    count, listings = _all(seller, f"/shops/{seller.shop_id}/listings", state="active")
    ids = [x["listing_id"] for x in listings]
    active = {x.listing_id for x in seller.state.world.listings.values() if x.state == "active"}
    assert set(ids) == active
    assert count == len(active)  # Etsy counts listings, not page entries
    assert len(ids) > len(active)  # one listing showed up on two consecutive pages
    seller.client.post("/_emulator/quirks", json={"listing_page_overlap": False})
    _, again = _all(seller, f"/shops/{seller.shop_id}/listings", state="active")
    assert len(again) == len(active)


def test_listings_take_one_state_per_call(seller: Seller) -> None:
    for state in ("active", "inactive", "sold_out", "draft", "expired"):
        _, rows = _all(seller, f"/shops/{seller.shop_id}/listings", state=state)
        assert {r["state"] for r in rows} <= {state}
    assert seller.get(f"/shops/{seller.shop_id}/listings", state="active,draft").status_code == 400


def test_receipt_filters_and_sorting(seller: Seller) -> None:
    receipts = seller.state.world.receipts.values()
    low, high = 1_775_000_000, 1_785_000_000
    count, rows = _all(seller, f"/shops/{seller.shop_id}/receipts", min_created=low, max_created=high, sort_order="asc")
    expected = sorted(r.receipt_id for r in receipts if low <= r.created <= high)
    assert count == len(expected) > 100
    assert sorted(r["receipt_id"] for r in rows) == expected
    assert [r["created_timestamp"] for r in rows] == sorted(r["created_timestamp"] for r in rows)

    _, canceled = _all(seller, f"/shops/{seller.shop_id}/receipts", was_canceled="true")
    assert canceled and {r["status"] for r in canceled} == {"canceled"}
    _, unshipped = _all(seller, f"/shops/{seller.shop_id}/receipts", was_shipped="false", was_canceled="false")
    assert all(not r["is_shipped"] for r in unshipped)

    _, by_update = _all(seller, f"/shops/{seller.shop_id}/receipts", sort_on="updated", sort_order="desc")
    stamps = [r["updated_timestamp"] for r in by_update]
    assert stamps == sorted(stamps, reverse=True)


def test_advance_changes_what_min_last_modified_returns(seller: Seller) -> None:
    since = seller.state.clock.now()
    before, _ = _all(seller, f"/shops/{seller.shop_id}/receipts", min_last_modified=since)
    summary = seller.client.post("/_emulator/advance", json={"hours": 72}).json()
    assert summary["new_receipts"] > 0
    seller = _relogin(seller)
    after, rows = _all(seller, f"/shops/{seller.shop_id}/receipts", min_last_modified=since)
    assert after > before
    assert all(r["updated_timestamp"] >= since for r in rows)
    assert summary["new_receipts"] <= after


def test_refunds_do_not_bump_updated_timestamp_unless_the_quirk_is_off(seller: Seller) -> None:
    refunded = next(r for r in seller.state.world.receipts.values() if r.refunds)
    assert refunded.refunds[-1].created > refunded.updated  # generated history shows the quirk
    body = seller.get(f"/shops/{seller.shop_id}/receipts/{refunded.receipt_id}").json()
    assert body["refunds"] and body["updated_timestamp"] < body["refunds"][-1]["created_timestamp"]


def _relogin(seller: Seller) -> Seller:
    from etsy_pipeline_tests.emulator.conftest import login

    return login(seller.client, seller.state)


def test_a_refund_leaves_updated_timestamp_alone_unless_the_quirk_is_off(seller: Seller) -> None:
    shipped = [r for r in seller.state.world.receipts.values() if r.is_shipped and not r.refunds]
    quiet, loud = shipped[0], shipped[1]
    seller.client.post("/_emulator/advance", json={"hours": 2})
    answer = seller.client.post("/_emulator/refund", json={"receipt_id": quiet.receipt_id, "amount": 100}).json()
    assert answer["status"] == "partially refunded"
    assert answer["updated_timestamp"] == quiet.updated < seller.state.clock.now()
    seller.client.post("/_emulator/quirks", json={"refunds_bump_updated": True})
    answer = seller.client.post("/_emulator/refund", json={"receipt_id": loud.receipt_id}).json()
    assert answer["status"] == "fully refunded"
    assert answer["updated_timestamp"] == seller.state.clock.now()
    bad = seller.client.post("/_emulator/refund", json={"receipt_id": quiet.receipt_id, "amount": 10**9})
    assert bad.status_code == 400 and "amount must be an integer from 1 to" in bad.json()["error"]
