from __future__ import annotations

from typing import Any

import pytest

from etsy_pipeline_tests.emulator.conftest import Seller
from etsy_pipeline_tests.emulator.test_conformance import _inventory_body, _varied_listing


def _put(seller: Seller, listing_id: int, body: Any) -> Any:
    return seller.client.put(f"/v3/application/listings/{listing_id}/inventory", json=body, headers=seller.headers)


def test_inventory_update_is_a_full_replace_with_new_ids(seller: Seller) -> None:
    listing_id = _varied_listing(seller)
    before = seller.get(f"/listings/{listing_id}/inventory").json()
    body = _inventory_body(seller, listing_id)
    kept = body["products"][:1]
    kept[0]["offerings"][0]["quantity"] = 7
    response = _put(seller, listing_id, body | {"products": kept})
    assert response.status_code == 200, response.text
    after = seller.get(f"/listings/{listing_id}/inventory").json()
    assert len(after["products"]) == 1  # products left out are gone
    assert after["products"][0]["offerings"][0]["quantity"] == 7
    assert after["products"][0]["product_id"] != before["products"][0]["product_id"]  # ids change every update
    assert seller.get(f"/listings/{listing_id}").json()["quantity"] == 7
    stats = seller.client.get("/_emulator/stats").json()
    assert stats["inventory_writes"] == {str(listing_id): 1}


def test_ids_stay_when_the_quirk_is_off(seller: Seller) -> None:
    seller.client.post("/_emulator/quirks", json={"inventory_ids_change": False})
    listing_id = _varied_listing(seller)
    before = seller.get(f"/listings/{listing_id}/inventory").json()
    assert _put(seller, listing_id, _inventory_body(seller, listing_id)).status_code == 200
    after = seller.get(f"/listings/{listing_id}/inventory").json()
    assert [p["product_id"] for p in after["products"]] == [p["product_id"] for p in before["products"]]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: {k: v for k, v in b.items() if k != "products"}, "Missing Input Parameter: [products]"),
        (lambda b: b | {"products": [b["products"][0] | {"product_id": 1}]}, "Array contains invalid keys: product_id"),
        (
            lambda b: (
                b
                | {"products": [b["products"][0] | {"offerings": [b["products"][0]["offerings"][0] | {"price": None}]}]}
            ),
            "Expected float value for 'price' (got NULL)",
        ),
        (
            lambda b: (
                b
                | {
                    "products": [
                        b["products"][0] | {"property_values": [{"property_id": 513, "value_ids": [], "values": []}]}
                    ]
                }
            ),
            "Property values can't be empty",
        ),
    ],
)
def test_inventory_validation_errors_match_etsys(seller: Seller, mutate: Any, message: str) -> None:
    listing_id = _varied_listing(seller)
    before = seller.get(f"/listings/{listing_id}/inventory").json()
    response = _put(seller, listing_id, mutate(_inventory_body(seller, listing_id)))
    assert response.status_code == 400
    assert response.json() == {"error": message}
    assert seller.get(f"/listings/{listing_id}/inventory").json() == before  # nothing changed


def test_update_listing_takes_form_fields_but_not_price_or_quantity(seller: Seller) -> None:
    listing = next(x for x in seller.state.world.listings.values() if x.state == "active")
    path = f"/v3/application/shops/{seller.shop_id}/listings/{listing.listing_id}"
    ok = seller.client.patch(path, data={"title": "Neuer Titel", "state": "inactive"}, headers=seller.headers)
    assert ok.status_code == 200
    assert (ok.json()["title"], ok.json()["state"]) == ("Neuer Titel", "inactive")
    assert ok.json()["updated_timestamp"] >= listing.created
    price = seller.client.patch(path, data={"price": "9.99"}, headers=seller.headers)
    assert price.status_code == 400
    assert "updateListingInventory" in price.json()["error"]
    as_json = seller.client.patch(path, json={"title": "x"}, headers=seller.headers)
    assert as_json.status_code == 400
    bad_section = seller.client.patch(path, data={"shop_section_id": "sale"}, headers=seller.headers)
    assert bad_section.status_code == 400
    assert bad_section.json() == {"error": "Invalid value for shop_section_id: expected an integer, got 'sale'"}
    unsectioned = seller.client.patch(path, data={"shop_section_id": "0"}, headers=seller.headers)
    assert unsectioned.json()["shop_section_id"] is None


def test_every_shipment_call_adds_a_shipment_and_emails_the_buyer(seller: Seller) -> None:
    receipt = next(r for r in seller.state.world.receipts.values() if not r.is_shipped and not r.is_canceled)
    path = f"/v3/application/shops/{seller.shop_id}/receipts/{receipt.receipt_id}/tracking"
    body = {"tracking_code": "9400100000000000000000", "carrier_name": "usps"}
    first = seller.client.post(path, json=body, headers=seller.headers)
    second = seller.client.post(path, json=body, headers=seller.headers)  # a naive retry
    assert first.status_code == second.status_code == 200
    assert len(second.json()["shipments"]) == 2  # not idempotent, exactly like Etsy
    assert second.json()["is_shipped"] is True
    stats = seller.client.get("/_emulator/stats").json()
    assert stats["shipments_created"][str(receipt.receipt_id)] == 2
    assert stats["buyer_emails"][str(receipt.receipt_id)] == 2
    form = seller.client.post(path, data=body, headers=seller.headers)
    assert form.status_code == 400  # JSON only since 2026-05
    half = seller.client.post(path, json={"tracking_code": "1"}, headers=seller.headers)
    assert half.json() == {"error": "tracking_code and carrier_name must be sent together"}


def test_update_receipt_marks_shipped_and_bumps_updated(seller: Seller) -> None:
    receipt = next(r for r in seller.state.world.receipts.values() if not r.is_shipped and not r.is_canceled)
    seller.client.post("/_emulator/advance", json={"hours": 1})
    from etsy_pipeline_tests.emulator.conftest import login

    seller = login(seller.client, seller.state)
    path = f"/v3/application/shops/{seller.shop_id}/receipts/{receipt.receipt_id}"
    body = seller.client.put(path, data={"was_shipped": "true"}, headers=seller.headers).json()
    assert body["is_shipped"] is True
    assert body["updated_timestamp"] == seller.state.clock.now()
