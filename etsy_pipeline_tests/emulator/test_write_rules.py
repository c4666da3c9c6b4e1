"""Etsy's rules on writes, which the emulator enforces so a push bug shows here rather than on Etsy (issue 10 §5)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from etsy_pipeline.emulator.app import create_app
from etsy_pipeline.emulator.handlers.listing_fields import FIELDS
from etsy_pipeline.emulator.models import Listing, Receipt
from etsy_pipeline_tests.emulator import openapi
from etsy_pipeline_tests.emulator.conftest import Seller, login, make_state
from etsy_pipeline_tests.emulator.test_conformance import _inventory_body, _varied_listing


def _ship(s: Seller, receipt: Receipt, body: dict[str, Any]) -> Any:
    path = f"/v3/application/shops/{s.shop_id}/receipts/{receipt.receipt_id}/tracking"
    return s.client.post(path, json=body, headers=s.headers)


def _patch(s: Seller, listing: Listing, data: dict[str, Any]) -> Any:
    path = f"/v3/application/shops/{s.shop_id}/listings/{listing.listing_id}"
    return s.client.patch(path, data=data, headers=s.headers)


def _open_receipts(s: Seller) -> list[Receipt]:
    receipts = s.state.world.receipts.values()
    return [r for r in receipts if r.shop_id == s.shop_id and not r.is_shipped and not r.is_canceled]


def _listing(s: Seller, state: str, kind: str = "physical") -> Listing:
    listings = s.state.world.listings.values()
    return next(x for x in listings if x.shop_id == s.shop_id and x.state == state and x.listing_type == kind)


def test_carriers_from_get_shipping_carriers_are_accepted_in_any_case_and_other(seller: Seller) -> None:
    names = [c["name"] for c in seller.get("/shipping-carriers", origin_country_iso="GB").json()["results"]]
    assert "Royal Mail" in names
    receipt = _open_receipts(seller)[0]
    sent = [*names, *(n.upper() for n in names), *(n.lower() for n in names), "other", "Other"]
    for n, name in enumerate(sent):
        response = _ship(seller, receipt, {"tracking_code": f"TRK{n}", "carrier_name": name})
        assert response.status_code == 200, (name, response.text)
    assert len(receipt.shipments) == len(sent)
    for wrong in ("royal-mail", "Hermes", "US Postal"):
        refused = _ship(seller, receipt, {"tracking_code": "X1", "carrier_name": wrong})
        assert refused.status_code == 400 and "'other'" in refused.json()["error"], wrong
    assert len(receipt.shipments) == len(sent)


def test_tracking_is_required_within_the_us_over_10_dollars_and_to_india(seller: Seller) -> None:
    shop = seller.state.world.shops[seller.shop_id]
    assert (shop.country_iso, shop.currency.code) == ("US", "USD")
    seller.client.post("/_emulator/advance", json={"hours": 36})  # new orders, not shipped yet
    seller = login(seller.client, seller.state)
    us, abroad, india, cheap = sorted(_open_receipts(seller), key=lambda r: -r.grandtotal)[:4]
    assert us.grandtotal > 1000
    for receipt, country in ((us, "US"), (abroad, "DE"), (india, "IN"), (cheap, "US")):
        receipt.address.country_iso = country
    cheap.transactions, cheap.shipping, cheap.tax, cheap.discount, cheap.gift_wrap = cheap.transactions[:1], 0, 0, 0, 0
    cheap.transactions[0].price, cheap.transactions[0].quantity = 1000, 1  # exactly $10: not over
    for receipt in (us, india):
        refused = _ship(seller, receipt, {})
        assert refused.status_code == 400 and "required" in refused.json()["error"]
        assert not receipt.is_shipped
        assert _ship(seller, receipt, {"tracking_code": "1Z9", "carrier_name": "UPS"}).status_code == 200
    for receipt in (abroad, cheap):
        shipped = _ship(seller, receipt, {})
        assert shipped.status_code == 200, shipped.text
        assert shipped.json()["is_shipped"] is True and shipped.json()["shipments"] == receipt.shipments == []
    emails = seller.client.get("/_emulator/stats").json()["buyer_emails"]
    assert emails == {str(us.receipt_id): 1, str(india.receipt_id): 1}  # marking shipped sends no e-mail


def test_update_shop_receipt_answers_only_documented_statuses(seller: Seller) -> None:
    documented = openapi.statuses("updateShopReceipt")
    assert 409 not in documented
    canceled = next(r for r in seller.state.world.receipts.values() if r.is_canceled)
    path = f"/v3/application/shops/{seller.shop_id}/receipts/{canceled.receipt_id}"
    response = seller.client.put(path, data={"was_shipped": "true"}, headers=seller.headers)
    assert response.status_code == 400 and "canceled" in response.json()["error"]
    open_one = _open_receipts(seller)[0]
    path = f"/v3/application/shops/{seller.shop_id}/receipts/{open_one.receipt_id}"
    unknown = seller.client.put(path, data={"was_shipped": "true", "status": "completed"}, headers=seller.headers)
    assert unknown.status_code == 400 and "'status'" in unknown.json()["error"]
    assert not open_one.is_shipped
    assert seller.client.put(path, data={"was_shipped": "true"}, headers=seller.headers).status_code == 200
    assert seller.client.get("/_emulator/stats").json()["receipt_writes"] == {str(open_one.receipt_id): 1}


def test_update_listing_takes_exactly_the_documented_fields() -> None:
    operation = openapi.spec()["paths"]["/v3/application/shops/{shop_id}/listings/{listing_id}"]["patch"]
    documented = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]["properties"]
    assert set(FIELDS) == set(documented)


def test_update_listing_applies_every_documented_field(seller: Seller) -> None:
    item = next(x for x in seller.state.world.listings.values() if x.state == "active" and len(x.images) >= 2)
    shop = seller.state.world.shops[seller.shop_id]
    partner = next(iter(shop.production_partners))
    image_ids = [i.listing_image_id for i in reversed(item.images)]
    section = shop.sections[-1].shop_section_id
    form = {
        "image_ids": ",".join(str(i) for i in image_ids),
        "title": "Stoneware Mug: Large & Blue",
        "description": "Thrown by hand.",
        "materials[]": ["clay", "glaze"],
        "should_auto_renew": "false",
        "shipping_profile_id": str(seller.shop_id + 7),
        "return_policy_id": str(seller.shop_id + 9),
        "shop_section_id": str(section),
        "item_weight": "0.5",
        "item_length": "12",
        "item_width": "9",
        "item_height": "11.5",
        "item_weight_unit": "kg",
        "item_dimensions_unit": "cm",
        "is_taxable": "false",
        "taxonomy_id": "1633",
        "tags": "mug,stoneware,gift for her",
        "who_made": "collective",
        "when_made": "2020_2026",
        "featured_rank": "2",
        "is_personalizable": "true",
        "personalization_is_required": "false",
        "personalization_char_count_max": "20",
        "personalization_instructions": "Name to paint",
        "state": "inactive",
        "is_supply": "true",
        "production_partner_ids": str(partner),
        "type": "physical",
    }
    assert set(form) - {"materials[]"} | {"materials"} == set(FIELDS)
    before = item.updated
    response = _patch(seller, item, form)
    assert response.status_code == 200, response.text
    body = seller.get(f"/listings/{item.listing_id}", includes="Images").json()
    expected = {
        "title": "Stoneware Mug: Large & Blue",
        "description": "Thrown by hand.",
        "materials": ["clay", "glaze"],
        "should_auto_renew": False,
        "shipping_profile_id": seller.shop_id + 7,
        "return_policy_id": seller.shop_id + 9,
        "shop_section_id": section,
        "item_weight": 0.5,
        "item_length": 12.0,
        "item_width": 9.0,
        "item_height": 11.5,
        "item_weight_unit": "kg",
        "item_dimensions_unit": "cm",
        "is_taxable": False,
        "taxonomy_id": 1633,
        "tags": ["mug", "stoneware", "gift for her"],
        "who_made": "collective",
        "when_made": "2020_2026",
        "featured_rank": 2,
        "is_personalizable": True,
        "state": "inactive",
        "is_supply": True,
        "listing_type": "physical",
    }
    assert {k: body[k] for k in expected} == expected
    assert [p["production_partner_id"] for p in body["production_partners"]] == [partner]
    assert [i["listing_image_id"] for i in sorted(body["images"], key=lambda i: i["rank"])] == image_ids
    assert body["updated_timestamp"] > before
    assert seller.client.get("/_emulator/stats").json()["listing_writes"] == {str(item.listing_id): 1}


@pytest.mark.parametrize(
    ("form", "named"),
    [
        ({"colour": "red"}, "colour"),
        ({"title": "New", "price": "9.99"}, "price"),
        ({"title": "Golden ✨ Mug"}, "title"),
        ({"title": "50% off: 100% wool"}, "title"),
        ({"tags": "mug,#gift"}, "tags"),
        ({"tags": ",".join(f"t{n}" for n in range(14))}, "tags"),
        ({"when_made": "2021"}, "when_made"),
        ({"item_weight": "0"}, "item_weight"),
        ({"item_weight_unit": "stone"}, "item_weight_unit"),
        ({"shipping_profile_id": "5"}, "shipping_profile_id"),
        ({"production_partner_ids": "5"}, "production_partner_ids"),
        ({"image_ids": "5"}, "image_ids"),
        ({"is_taxable": "maybe"}, "is_taxable"),
        ({"state": "draft"}, "state"),
    ],
)
def test_update_listing_names_the_field_it_refuses(seller: Seller, form: dict[str, str], named: str) -> None:
    item = _listing(seller, "active")
    before = (item.title, item.tags, item.updated)
    response = _patch(seller, item, form | {"description": "changed too"})
    assert response.status_code == 400
    assert named in response.json()["error"]
    assert (item.title, item.tags, item.updated) == before and item.description != "changed too"


def test_activation_rules(seller: Seller) -> None:
    shop_id = seller.shop_id
    draft = _listing(seller, "draft")
    draft.images = []
    refused = _patch(seller, draft, {"title": "Ready now", "state": "active"})
    assert refused.status_code == 409 and "image" in refused.json()["error"]
    assert (draft.title, draft.state) != ("Ready now", "active")  # nothing of the edit applied

    inactive = _listing(seller, "inactive")
    incomplete = _patch(seller, inactive, {"shipping_profile_id": str(shop_id + 8), "state": "active"})
    assert incomplete.status_code == 409 and "not complete" in incomplete.json()["error"]
    assert inactive.shipping_profile_id == shop_id + 7
    no_policy = _patch(seller, inactive, {"return_policy_id": "", "state": "active"})
    assert no_policy.status_code == 409 and "return_policy_id" in no_policy.json()["error"]
    assert _patch(seller, inactive, {"state": "active"}).json()["state"] == "active"

    digital = _listing(seller, "active", "download")
    assert _patch(seller, digital, {"state": "inactive"}).status_code == 200
    digital.has_file, digital.when_made = False, "2020_2026"
    assert _patch(seller, digital, {"state": "active"}).status_code == 409
    made_to_order = _patch(seller, digital, {"when_made": "made_to_order", "state": "active"})
    assert made_to_order.json()["state"] == "active"

    sold_out = _listing(seller, "sold_out")
    renewed = _patch(seller, sold_out, {"state": "active"}).json()
    assert (renewed["state"], renewed["quantity"]) == ("active", 1)


@pytest.fixture
def eu_seller() -> Iterator[Seller]:
    state = make_state(scale="tiny")
    with TestClient(create_app(state), base_url="http://emulator.test") as client:
        yield login(client, state, index=1)


def test_an_eu_shop_activates_without_a_return_policy(eu_seller: Seller) -> None:
    assert eu_seller.state.world.shops[eu_seller.shop_id].country_iso == "DE"
    listing = _listing(eu_seller, "active")
    assert _patch(eu_seller, listing, {"state": "inactive"}).status_code == 200
    response = _patch(eu_seller, listing, {"return_policy_id": "", "state": "active"})
    assert response.status_code == 200, response.text
    assert (response.json()["state"], response.json()["return_policy_id"]) == ("active", None)


def _put(s: Seller, listing_id: int, body: Any) -> Any:
    return s.client.put(f"/v3/application/listings/{listing_id}/inventory", json=body, headers=s.headers)


@pytest.mark.parametrize("key", ["is_enabled", "readiness_state_id", "price", "quantity"])
def test_offerings_require_what_the_spec_requires(seller: Seller, key: str) -> None:
    listing_id = _varied_listing(seller)
    body = _inventory_body(seller, listing_id)
    del body["products"][1]["offerings"][0][key]
    response = _put(seller, listing_id, body)
    assert response.status_code == 400
    assert response.json() == {"error": f"Missing Input Parameter: [products[1].offerings[0].{key}]"}


def test_readiness_state_ids_and_readiness_state_on_property_are_kept(seller: Seller) -> None:
    listing_id = _varied_listing(seller)
    body = _inventory_body(seller, listing_id)
    varying = body["products"][0]["property_values"][0]["property_id"]
    for n, product in enumerate(body["products"]):
        product["offerings"][0]["readiness_state_id"] = 1000 + n
    response = _put(seller, listing_id, body | {"readiness_state_on_property": [varying]})
    assert response.status_code == 200, response.text
    after = seller.get(f"/listings/{listing_id}/inventory").json()
    assert after["readiness_state_on_property"] == [varying]
    assert [p["offerings"][0]["readiness_state_id"] for p in after["products"]] == [
        1000 + n for n in range(len(body["products"]))
    ]
    assert _put(seller, listing_id, body | {"readiness_state_on_property": [99]}).status_code == 400
    zero = _inventory_body(seller, listing_id)
    zero["products"][0]["offerings"][0]["readiness_state_id"] = 0
    assert _put(seller, listing_id, zero).status_code == 400
    assert _put(seller, listing_id, body | {"legacy_field": []}).status_code == 400
