"""The seller's own edits on Etsy (admin API) and writes that are applied but answered 503 (issue 10 §5)."""

from __future__ import annotations

from typing import Any

from etsy_pipeline.emulator.models import Listing
from etsy_pipeline_tests.emulator.conftest import Seller
from etsy_pipeline_tests.emulator.test_conformance import _inventory_body, _varied_listing


def _active(s: Seller, *, varied: bool) -> Listing:
    return next(
        x
        for x in s.state.world.listings.values()
        if x.state == "active" and x.has_variations == varied and x.listing_type == "physical"
    )


def _admin(s: Seller, path: str, body: dict[str, Any]) -> Any:
    return s.client.post(f"/_emulator/{path}", json=body)


def test_a_seller_stock_edit_moves_updated_timestamp_and_the_ids(seller: Seller) -> None:
    listing = _active(seller, varied=True)
    before = seller.get(f"/listings/{listing.listing_id}").json()
    inventory = seller.get(f"/listings/{listing.listing_id}/inventory").json()
    sku = inventory["products"][1]["sku"]
    answer = _admin(seller, "seller/inventory", {"listing_id": listing.listing_id, "sku": sku, "quantity": 17})
    assert answer.status_code == 200, answer.text
    after = seller.get(f"/listings/{listing.listing_id}/inventory").json()
    assert next(p for p in after["products"] if p["sku"] == sku)["offerings"][0]["quantity"] == 17
    assert {p["product_id"] for p in after["products"]}.isdisjoint(p["product_id"] for p in inventory["products"])
    listing_json = seller.get(f"/listings/{listing.listing_id}").json()
    assert listing_json["updated_timestamp"] > before["updated_timestamp"]  # even under the frozen clock
    assert answer.json()["updated_timestamp"] == listing_json["updated_timestamp"]
    again = _admin(seller, "seller/inventory", {"listing_id": listing.listing_id, "sku": sku, "quantity": 3})
    assert again.json()["updated_timestamp"] > listing_json["updated_timestamp"]  # every edit shows
    stats = seller.client.get("/_emulator/stats").json()
    assert stats["inventory_writes"] == {} and stats["listing_writes"] == {}  # not the client's calls


def test_a_seller_selling_out_a_listing_marks_it_sold_out(seller: Seller) -> None:
    listing = _active(seller, varied=False)
    sku = listing.inventory.products[0].sku
    body = _admin(seller, "seller/inventory", {"listing_id": listing.listing_id, "sku": sku, "quantity": 0}).json()
    assert (body["state"], body["quantity"]) == ("sold_out", 0)


def test_a_seller_listing_edit(seller: Seller) -> None:
    listing = _active(seller, varied=False)
    before = seller.get(f"/listings/{listing.listing_id}").json()
    edit = {"listing_id": listing.listing_id, "title": "Seller's new title", "tags": ["a", "b"], "state": "inactive"}
    answer = _admin(seller, "seller/listing", edit | {"description": "Now longer."})
    assert answer.status_code == 200, answer.text
    body = seller.client.get(
        f"/v3/application/listings/{listing.listing_id}", headers=seller.headers
    ).json()  # inactive: the owner still sees it
    assert (body["title"], body["tags"], body["state"], body["description"]) == (
        "Seller's new title",
        ["a", "b"],
        "inactive",
        "Now longer.",
    )
    assert body["updated_timestamp"] > before["updated_timestamp"]
    assert seller.client.get("/_emulator/stats").json()["listing_writes"] == {}


def test_seller_edits_refuse_what_etsy_refuses(seller: Seller) -> None:
    listing = _active(seller, varied=False)
    sku = listing.inventory.products[0].sku
    ident = listing.listing_id
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("seller/inventory", {"listing_id": ident, "sku": "NOPE", "quantity": 1}, 400, "sku"),
        ("seller/inventory", {"listing_id": ident, "sku": sku, "quantity": -1}, 400, "quantity"),
        ("seller/inventory", {"listing_id": 1, "sku": sku, "quantity": 1}, 400, "listing_id"),
        ("seller/inventory", {"listing_id": ident, "sku": sku, "quantity": 1, "price": 3}, 400, "price"),
        ("seller/listing", {"listing_id": ident, "colour": "red"}, 400, "colour"),
        ("seller/listing", {"listing_id": ident}, 400, "at least one"),
        ("seller/listing", {"listing_id": ident, "title": "✨✨"}, 400, "title"),
        ("seller/listing", {"listing_id": ident, "tags": "a,b"}, 400, "tags"),
    ]
    for path, body, status, named in cases:
        response = _admin(seller, path, body)
        assert (response.status_code, named in response.json()["error"]) == (status, True), body
    listing.images = []
    draft_state = _admin(seller, "seller/listing", {"listing_id": ident, "state": "inactive"})
    assert draft_state.status_code == 200
    listing.state = "draft"
    publish = _admin(seller, "seller/listing", {"listing_id": ident, "state": "active"})
    assert publish.status_code == 409 and "image" in publish.json()["error"]


def test_a_write_applied_error_applies_the_write_then_answers_503(seller: Seller) -> None:
    assert seller.client.post("/_emulator/faults", json={"write_applied_error_rate": 1.0}).status_code == 200
    receipt = next(r for r in seller.state.world.receipts.values() if not r.is_shipped and not r.is_canceled)
    path = f"/v3/application/shops/{seller.shop_id}/receipts/{receipt.receipt_id}/tracking"
    response = seller.client.post(path, json={"tracking_code": "1Z1", "carrier_name": "UPS"}, headers=seller.headers)
    assert response.status_code == 503 and response.json() == {"error": "Service Unavailable"}
    shown = seller.get(f"/shops/{seller.shop_id}/receipts/{receipt.receipt_id}")  # reads are not affected
    assert shown.status_code == 200 and [s["tracking_code"] for s in shown.json()["shipments"]] == ["1Z1"]

    listing_id = _varied_listing(seller)
    body = _inventory_body(seller, listing_id)
    put = seller.client.put(f"/v3/application/listings/{listing_id}/inventory", json=body, headers=seller.headers)
    assert put.status_code == 503
    quantities = [
        p["offerings"][0]["quantity"] for p in seller.get(f"/listings/{listing_id}/inventory").json()["products"]
    ]
    assert quantities == [p["offerings"][0]["quantity"] for p in body["products"]]

    patch = seller.client.patch(
        f"/v3/application/shops/{seller.shop_id}/listings/{listing_id}",
        data={"title": "Applied"},
        headers=seller.headers,
    )
    assert patch.status_code == 503
    assert seller.get(f"/listings/{listing_id}").json()["title"] == "Applied"

    stats = seller.client.get("/_emulator/stats").json()
    assert stats["shipments_created"] == {str(receipt.receipt_id): 1}
    assert stats["buyer_emails"] == {str(receipt.receipt_id): 1}
    assert stats["inventory_writes"] == {str(listing_id): 1} and stats["listing_writes"] == {str(listing_id): 1}
    assert stats["faults"] == {"write_applied_503": 3}
    assert seller.client.get("/_emulator/faults").json()["write_applied_error_rate"] == 1.0
    refused = seller.client.post("/_emulator/faults", json={"write_applied_error_rate": 1.5})
    assert refused.status_code == 400 and "write_applied_error_rate" in refused.json()["error"]


def test_a_failed_write_is_not_turned_into_an_applied_one(seller: Seller) -> None:
    seller.client.post("/_emulator/faults", json={"write_applied_error_rate": 1.0})
    listing_id = _varied_listing(seller)
    path = f"/v3/application/shops/{seller.shop_id}/listings/{listing_id}"
    refused = seller.client.patch(path, data={"colour": "red"}, headers=seller.headers)
    assert refused.status_code == 400  # the write was not applied, so Etsy's own error comes back
    assert seller.client.get("/_emulator/stats").json()["faults"] == {}
