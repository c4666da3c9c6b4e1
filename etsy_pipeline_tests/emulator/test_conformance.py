"""Every operation the emulator serves answers in the shapes of Etsy's OpenAPI document, completely."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from etsy_pipeline.emulator.models import LedgerEntry
from etsy_pipeline.emulator.routes import ROUTES
from etsy_pipeline_tests.emulator import openapi
from etsy_pipeline_tests.emulator.conftest import Seller

Call = Callable[[Seller], Any]


def _receipt_id(s: Seller, **filters: Any) -> int:
    return int(s.get(f"/shops/{s.shop_id}/receipts", limit=1, **filters).json()["results"][0]["receipt_id"])


def _listing_id(s: Seller, state: str = "active") -> int:
    return int(s.get(f"/shops/{s.shop_id}/listings", state=state, limit=1).json()["results"][0]["listing_id"])


def _varied_listing(s: Seller) -> int:
    return next(x.listing_id for x in s.state.world.listings.values() if x.has_variations and x.state == "active")


def _refunded_receipt(s: Seller) -> int:
    return next(r.receipt_id for r in s.state.world.receipts.values() if r.refunds)


def _canceled_receipt(s: Seller) -> int:
    return next(r.receipt_id for r in s.state.world.receipts.values() if r.is_canceled and r.adjustments)


def _entry_id(s: Seller, ledger_type: str, nth: int = 0) -> int:
    entries = [e for e in s.state.world.ledger[s.shop_id] if e.ledger_type == ledger_type]
    return entries[nth].entry_id


def _refund_entry(s: Seller) -> LedgerEntry:
    return next(e for e in s.state.world.ledger[s.shop_id] if e.ledger_type == "REFUND_GROSS")


def _entry_ids(s: Seller) -> str:
    return ",".join(str(_entry_id(s, kind)) for kind in ("PAYMENT_GROSS", "PAYMENT_PROCESSING_FEE", "REFUND_GROSS"))


def _payment_ids(s: Seller) -> str:
    receipts = s.state.world.receipts
    return ",".join(str(receipts[r].payment_id) for r in (_receipt_id(s), _refunded_receipt(s), _canceled_receipt(s)))


def _inventory_body(s: Seller, listing_id: int) -> dict[str, Any]:
    inventory = s.get(f"/listings/{listing_id}/inventory").json()
    products = [
        {
            "sku": p["sku"],
            "property_values": [{k: v for k, v in pv.items() if k != "scale_name"} for pv in p["property_values"]],
            "offerings": [
                {
                    "price": o["price"]["amount"] / o["price"]["divisor"],
                    "quantity": o["quantity"] + 1,
                    "is_enabled": o["is_enabled"],
                    "readiness_state_id": o["readiness_state_id"],
                }
                for o in p["offerings"]
            ],
        }
        for p in inventory["products"]
    ]
    return {
        "products": products,
        "price_on_property": inventory["price_on_property"],
        "quantity_on_property": inventory["quantity_on_property"],
        "sku_on_property": inventory["sku_on_property"],
    }


CASES: dict[str, list[Call]] = {
    "ping": [lambda s: s.get("/openapi-ping")],
    "getMe": [lambda s: s.get("/users/me")],
    "getUser": [lambda s: s.get(f"/users/{s.user_id}")],
    "getShop": [lambda s: s.get(f"/shops/{s.shop_id}")],
    "getShopByOwnerUserId": [lambda s: s.get(f"/users/{s.user_id}/shops")],
    "getShopSections": [lambda s: s.get(f"/shops/{s.shop_id}/sections")],
    "getShippingCarriers": [lambda s: s.get("/shipping-carriers", origin_country_iso="US")],
    "getReviewsByShop": [
        lambda s: s.get(f"/shops/{s.shop_id}/reviews"),
        lambda s: s.get(f"/shops/{s.shop_id}/reviews", limit=100, offset=10, min_created=1_750_000_000),
    ],
    "getListingsByShop": [
        lambda s: s.get(f"/shops/{s.shop_id}/listings"),
        lambda s: s.get(f"/shops/{s.shop_id}/listings", state="sold_out", limit=100),
        lambda s: s.get(f"/shops/{s.shop_id}/listings", includes="Images,Inventory,Videos", limit=100),
        lambda s: s.get(f"/shops/{s.shop_id}/listings", includes="Shop,User", state="draft", sort_on="updated"),
    ],
    "getListing": [
        lambda s: s.get(f"/listings/{_listing_id(s)}"),
        lambda s: s.get(f"/listings/{_varied_listing(s)}", includes="Images,Videos,Shop"),
    ],
    "getListingsByListingIds": [
        lambda s: s.get("/listings/batch", listing_ids=",".join(str(_listing_id(s)) for _ in range(2))),
        lambda s: s.get("/listings/batch", listing_ids=str(_varied_listing(s)), includes="Images,User"),
    ],
    "getListingImages": [lambda s: s.get(f"/listings/{_listing_id(s)}/images")],
    "getListingInventory": [
        lambda s: s.get(f"/listings/{_listing_id(s)}/inventory"),
        lambda s: s.get(f"/listings/{_varied_listing(s)}/inventory", includes="Listing"),
    ],
    "updateListingInventory": [
        lambda s: s.client.put(
            f"/v3/application/listings/{_varied_listing(s)}/inventory",
            json=_inventory_body(s, _varied_listing(s)),
            headers=s.headers,
        )
    ],
    "updateListing": [
        lambda s: s.client.patch(
            f"/v3/application/shops/{s.shop_id}/listings/{_listing_id(s)}",
            data={"title": "Renamed mug ™", "tags": "mug,gift"},
            headers=s.headers,
        )
    ],
    "getShopReceipts": [
        lambda s: s.get(f"/shops/{s.shop_id}/receipts"),
        lambda s: s.get(f"/shops/{s.shop_id}/receipts", limit=100, sort_on="updated", sort_order="asc"),
        lambda s: s.get(f"/shops/{s.shop_id}/receipts", was_shipped="false", limit=100),
        lambda s: s.get(f"/shops/{s.shop_id}/receipts", min_created=1_780_000_000, was_canceled="true"),
    ],
    "getShopReceipt": [
        lambda s: s.get(f"/shops/{s.shop_id}/receipts/{_receipt_id(s)}"),
        lambda s: s.get(f"/shops/{s.shop_id}/receipts/{_refunded_receipt(s)}"),
    ],
    "getShopReceiptTransactionsByReceipt": [
        lambda s: s.get(f"/shops/{s.shop_id}/receipts/{_receipt_id(s)}/transactions")
    ],
    "getShopReceiptTransactionsByShop": [
        lambda s: s.get(f"/shops/{s.shop_id}/transactions"),
        lambda s: s.get(f"/shops/{s.shop_id}/transactions", limit=100, offset=200),
    ],
    "updateShopReceipt": [
        lambda s: s.client.put(
            f"/v3/application/shops/{s.shop_id}/receipts/{_receipt_id(s)}",
            data={"was_shipped": "true"},
            headers=s.headers,
        )
    ],
    "createReceiptShipment": [
        lambda s: s.client.post(
            f"/v3/application/shops/{s.shop_id}/receipts/{_receipt_id(s, was_shipped='false')}/tracking",
            json={"tracking_code": "1Z999", "carrier_name": "ups", "send_bcc": False},
            headers=s.headers,
        )
    ],
    "getShopPaymentByReceiptId": [
        lambda s: s.get(f"/shops/{s.shop_id}/receipts/{_receipt_id(s)}/payments"),
        lambda s: s.get(f"/shops/{s.shop_id}/receipts/{_refunded_receipt(s)}/payments"),
        lambda s: s.get(f"/shops/{s.shop_id}/receipts/{_canceled_receipt(s)}/payments"),
    ],
    "getPayments": [lambda s: s.get(f"/shops/{s.shop_id}/payments", payment_ids=_payment_ids(s))],
    "getShopPaymentAccountLedgerEntry": [
        lambda s: s.get(f"/shops/{s.shop_id}/payment-account/ledger-entries/{_entry_id(s, 'PAYMENT_GROSS')}"),
        lambda s: s.get(f"/shops/{s.shop_id}/payment-account/ledger-entries/{_entry_id(s, 'REFUND_GROSS')}"),
    ],
    "getPaymentAccountLedgerEntryPayments": [
        lambda s: s.get(f"/shops/{s.shop_id}/payment-account/ledger-entries/payments", ledger_entry_ids=_entry_ids(s))
    ],
    "getShopPaymentAccountLedgerEntries": [
        lambda s: s.get(
            f"/shops/{s.shop_id}/payment-account/ledger-entries",
            min_created=1_760_000_000,
            max_created=1_793_000_000,
            limit=100,
        ),
        lambda s: s.get(
            f"/shops/{s.shop_id}/payment-account/ledger-entries",
            min_created=_refund_entry(s).created,
            max_created=_refund_entry(s).created,
        ),
    ],
    "tokenScopes": [
        lambda s: s.client.post("/v3/application/scopes", data={"token": s.access_token}, headers=s.headers)
    ],
}


def test_every_route_is_an_etsy_operation_with_the_same_method_and_path() -> None:
    operations = openapi.operations()
    for route in ROUTES:
        assert route.operation_id in operations, route.operation_id
        method, path, _ = operations[route.operation_id]
        assert (method, path) == (route.method, route.full_path)


def test_every_route_has_conformance_cases() -> None:
    assert {r.operation_id for r in ROUTES} == set(CASES)


@pytest.mark.parametrize(("operation_id", "case"), [(op, n) for op, calls in CASES.items() for n in range(len(calls))])
def test_responses_match_etsys_schemas_completely(seller: Seller, operation_id: str, case: int) -> None:
    response = CASES[operation_id][case](seller)
    assert response.status_code == 200, response.text
    _, _, schema = openapi.operations()[operation_id]
    assert schema is not None
    body = response.json()
    assert openapi.errors(schema, body, strict=False) == []
    assert openapi.errors(schema, body, strict=True) == []
    if isinstance(body, dict) and "results" in body:
        assert body["results"], f"{operation_id} case {case} returned no records to validate"


def test_the_strict_check_catches_a_missing_or_extra_field(seller: Seller) -> None:
    receipt = seller.get(f"/shops/{seller.shop_id}/receipts/{_receipt_id(seller)}").json()
    assert openapi.errors("ShopReceipt", receipt, strict=True) == []
    missing = {k: v for k, v in receipt.items() if k != "gift_sender"}
    assert any("gift_sender" in e for e in openapi.errors("ShopReceipt", missing, strict=True))
    assert openapi.errors("ShopReceipt", missing, strict=False) == []
    extra = receipt | {"buyer_phone": "555"}
    assert any("buyer_phone" in e for e in openapi.errors("ShopReceipt", extra, strict=True))


def _patch(s: Seller, listing_id: int, data: dict[str, str]) -> Any:
    return s.client.patch(f"/v3/application/shops/{s.shop_id}/listings/{listing_id}", data=data, headers=s.headers)


def _draft_without_images(s: Seller) -> int:
    draft = next(x for x in s.state.world.listings.values() if x.state == "draft" and x.listing_type == "physical")
    draft.images = []
    return draft.listing_id


ERROR_CASES: dict[str, list[Call]] = {
    "updateListing": [
        lambda s: _patch(s, _listing_id(s), {"colour": "red"}),
        lambda s: _patch(s, _listing_id(s), {"when_made": "2021"}),
        lambda s: _patch(s, _draft_without_images(s), {"state": "active"}),
        lambda s: _patch(s, 1, {"title": "x"}),
    ],
    "updateListingInventory": [
        lambda s: s.client.put(
            f"/v3/application/listings/{_varied_listing(s)}/inventory", json={"products": []}, headers=s.headers
        ),
    ],
    "updateShopReceipt": [
        lambda s: s.client.put(
            f"/v3/application/shops/{s.shop_id}/receipts/{_canceled_receipt(s)}",
            data={"was_shipped": "true"},
            headers=s.headers,
        ),
        lambda s: s.client.put(
            f"/v3/application/shops/{s.shop_id}/receipts/{_receipt_id(s)}", data={"status": "x"}, headers=s.headers
        ),
    ],
    "createReceiptShipment": [
        lambda s: s.client.post(
            f"/v3/application/shops/{s.shop_id}/receipts/{_canceled_receipt(s)}/tracking",
            json={"tracking_code": "1Z", "carrier_name": "UPS"},
            headers=s.headers,
        ),
        lambda s: s.client.post(
            f"/v3/application/shops/{s.shop_id}/receipts/{_receipt_id(s)}/tracking",
            json={"tracking_code": "1Z", "carrier_name": "Hermes"},
            headers=s.headers,
        ),
    ],
    "getPayments": [lambda s: s.get(f"/shops/{s.shop_id}/payments", payment_ids="1")],
    "getShopPaymentAccountLedgerEntry": [lambda s: s.get(f"/shops/{s.shop_id}/payment-account/ledger-entries/1")],
    "getPaymentAccountLedgerEntryPayments": [
        lambda s: s.get(f"/shops/{s.shop_id}/payment-account/ledger-entries/payments", ledger_entry_ids="1")
    ],
}


@pytest.mark.parametrize(
    ("operation_id", "case"), [(op, n) for op, calls in ERROR_CASES.items() for n in range(len(calls))]
)
def test_errors_use_only_the_statuses_etsy_documents(seller: Seller, operation_id: str, case: int) -> None:
    response = ERROR_CASES[operation_id][case](seller)
    assert response.status_code >= 400
    assert response.status_code in openapi.statuses(operation_id), response.text
    assert openapi.errors("ErrorSchema", response.json(), strict=True) == []
