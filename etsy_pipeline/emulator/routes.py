"""The route table: Etsy's paths, methods, operationIds, OAuth scopes and body types, and their handlers.

Paths and scopes are Etsy's (see ENDPOINTS in Etsy's OpenAPI document); the conformance tests check that
every route here exists in the document with the same method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from etsy_pipeline.emulator.handlers import inventory, listings, payments, receipts, shops
from etsy_pipeline.emulator.handlers.base import Call, Json

PREFIX = "/v3/application"


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # relative to /v3/application
    operation_id: str
    scopes: tuple[str, ...]
    handler: Callable[[Call], Json]
    body: str | None = None  # "json" or "form"

    @property
    def full_path(self) -> str:
        return PREFIX + self.path

    @property
    def is_write(self) -> bool:
        """Writes are the operations that need a write scope (tokenScopes is a POST that only reads)."""
        return any(scope.endswith("_w") for scope in self.scopes)


ROUTES: list[Route] = [
    Route("GET", "/openapi-ping", "ping", (), shops.ping),
    Route("POST", "/scopes", "tokenScopes", (), shops.token_scopes, body="form"),
    Route("GET", "/users/me", "getMe", ("shops_r",), shops.get_me),
    Route("GET", "/users/{user_id}", "getUser", ("email_r",), shops.get_user),
    Route("GET", "/users/{user_id}/shops", "getShopByOwnerUserId", (), shops.get_shop_by_owner),
    Route("GET", "/shops/{shop_id}", "getShop", (), shops.get_shop),
    Route("GET", "/shops/{shop_id}/sections", "getShopSections", (), shops.get_sections),
    Route("GET", "/shops/{shop_id}/reviews", "getReviewsByShop", (), shops.get_reviews),
    Route("GET", "/shipping-carriers", "getShippingCarriers", (), shops.get_carriers),
    Route("GET", "/shops/{shop_id}/listings", "getListingsByShop", ("listings_r",), listings.get_listings_by_shop),
    Route("GET", "/listings/batch", "getListingsByListingIds", (), listings.get_listings_by_ids),
    Route("GET", "/listings/{listing_id}", "getListing", (), listings.get_listing),
    Route("GET", "/listings/{listing_id}/images", "getListingImages", (), listings.get_images),
    Route("GET", "/listings/{listing_id}/inventory", "getListingInventory", ("listings_r",), listings.get_inventory),
    Route(
        "PUT",
        "/listings/{listing_id}/inventory",
        "updateListingInventory",
        ("listings_w",),
        inventory.update_inventory,
        body="json",
    ),
    Route(
        "PATCH",
        "/shops/{shop_id}/listings/{listing_id}",
        "updateListing",
        ("listings_w",),
        listings.update_listing,
        body="form",
    ),
    Route("GET", "/shops/{shop_id}/receipts", "getShopReceipts", ("transactions_r",), receipts.get_receipts),
    Route("GET", "/shops/{shop_id}/receipts/{receipt_id}", "getShopReceipt", ("transactions_r",), receipts.get_receipt),
    Route(
        "PUT",
        "/shops/{shop_id}/receipts/{receipt_id}",
        "updateShopReceipt",
        ("transactions_w",),
        receipts.update_receipt,
        body="form",
    ),
    Route(
        "GET",
        "/shops/{shop_id}/receipts/{receipt_id}/transactions",
        "getShopReceiptTransactionsByReceipt",
        ("transactions_r",),
        receipts.get_receipt_transactions,
    ),
    Route(
        "GET",
        "/shops/{shop_id}/transactions",
        "getShopReceiptTransactionsByShop",
        ("transactions_r",),
        receipts.get_shop_transactions,
    ),
    Route(
        "POST",
        "/shops/{shop_id}/receipts/{receipt_id}/tracking",
        "createReceiptShipment",
        ("transactions_w",),
        receipts.create_shipment,
        body="json",
    ),
    Route(
        "GET",
        "/shops/{shop_id}/receipts/{receipt_id}/payments",
        "getShopPaymentByReceiptId",
        ("transactions_r",),
        payments.get_payment_by_receipt,
    ),
    Route("GET", "/shops/{shop_id}/payments", "getPayments", ("transactions_r",), payments.get_payments),
    Route(
        "GET",
        "/shops/{shop_id}/payment-account/ledger-entries",
        "getShopPaymentAccountLedgerEntries",
        ("transactions_r",),
        payments.get_ledger,
    ),
    # Before the `{ledger_entry_id}` route: routes match in order, and the literal segment must win.
    Route(
        "GET",
        "/shops/{shop_id}/payment-account/ledger-entries/payments",
        "getPaymentAccountLedgerEntryPayments",
        ("transactions_r",),
        payments.get_ledger_entry_payments,
    ),
    Route(
        "GET",
        "/shops/{shop_id}/payment-account/ledger-entries/{ledger_entry_id}",
        "getShopPaymentAccountLedgerEntry",
        ("transactions_r",),
        payments.get_ledger_entry,
    ),
]
