"""Typed bodies of Etsy's write calls: updateListingInventory, updateListing, createReceiptShipment,
updateShopReceipt.

updateListingInventory replaces the whole inventory, so its body is built from what getListingInventory just
returned: every product is sent back, read-only keys (`product_id`, `offering_id`, `is_deleted`, `scale_name`)
are dropped, Money becomes a float in major units, and the `*_on_property` arrays are kept as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Json = dict[str, Any]

PRODUCT_KEYS = ("sku", "property_values", "offerings")
PROPERTY_KEYS = ("property_id", "property_name", "scale_id", "value_ids", "values")
OFFERING_KEYS = ("price", "quantity", "is_enabled", "readiness_state_id")
ON_PROPERTY = ("price_on_property", "quantity_on_property", "sku_on_property", "readiness_state_on_property")


def money_value(money: Any) -> Decimal:
    """Etsy's Money object as an exact decimal in major units (never assume a divisor of 100)."""
    return Decimal(int(money["amount"])) / Decimal(int(money["divisor"]))


def variation_key(product: Json) -> str:
    """The stable key of a product: sorted property_id:value_id pairs ('' without variations), as core keeps it."""
    pairs = sorted((int(v["property_id"]), int(v["value_ids"][0])) for v in product.get("property_values") or [])
    return "|".join(f"{p}:{v}" for p, v in pairs)


def offering_of(product: Json) -> Json:
    return dict(product["offerings"][0])


def inventory_body(inventory: Json) -> Json:
    """The updateListingInventory body that writes `inventory` (a getListingInventory answer) back unchanged."""
    products = []
    for product in inventory["products"]:
        if product.get("is_deleted"):
            continue
        offerings = [
            {
                "price": float(money_value(o["price"])) if isinstance(o["price"], dict) else float(o["price"]),
                "quantity": int(o["quantity"]),
                "is_enabled": bool(o.get("is_enabled", True)),
                "readiness_state_id": o.get("readiness_state_id"),
            }
            for o in product["offerings"]
            if not o.get("is_deleted")
        ]
        values = [{k: v[k] for k in PROPERTY_KEYS if k in v} for v in product.get("property_values") or []]
        products.append({"sku": product.get("sku") or None, "property_values": values, "offerings": offerings})
    body: Json = {"products": products}
    for name in ON_PROPERTY:
        body[name] = list(inventory.get(name) or [])
    return body


@dataclass(frozen=True)
class ListingField:
    """One field updateListing accepts: how a command-line value is read and how it is sent as a form value."""

    name: str
    parse: Callable[[str], Any]
    core_column: str | None = None  # the core.listings column holding it, if core keeps it


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def _words(value: str) -> list[str]:
    return [w.strip() for w in value.split(",") if w.strip()]


def _ids(value: str) -> list[int]:
    return [int(w) for w in _words(value)]


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError("must be true or false")
    return lowered == "true"


def _choice(*options: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return parse


def _section(value: str) -> int | None:
    number = int(value)
    if number < 0:
        raise ValueError("must be 0 (no section) or a section id")
    return number or None


def _positive_float(value: str) -> float:
    number = float(value)
    if number < 0:
        raise ValueError("must not be negative")
    return number


LISTING_FIELDS: dict[str, ListingField] = {
    f.name: f
    for f in (
        ListingField("title", _text, "title"),
        ListingField("description", _text, "description"),
        ListingField("tags", _words, "tags"),
        ListingField("materials", _words, "materials"),
        ListingField("state", _choice("active", "inactive"), "state"),
        ListingField("shop_section_id", _section, "shop_section_id"),
        ListingField("taxonomy_id", int, "taxonomy_id"),
        ListingField("who_made", _choice("i_did", "someone_else", "collective"), "who_made"),
        ListingField("when_made", _text, "when_made"),
        ListingField("type", _choice("physical", "download", "both"), "listing_type"),
        ListingField("image_ids", _ids),
        ListingField("should_auto_renew", _bool),
        ListingField("shipping_profile_id", int),
        ListingField("return_policy_id", int),
        ListingField("item_weight", _positive_float),
        ListingField("item_length", _positive_float),
        ListingField("item_width", _positive_float),
        ListingField("item_height", _positive_float),
        ListingField("item_weight_unit", _text),  # Etsy's enums; Etsy names a bad one in its 400
        ListingField("item_dimensions_unit", _text),
        ListingField("is_taxable", _bool),
        ListingField("featured_rank", int),
        ListingField("is_supply", _bool),
        ListingField("production_partner_ids", _ids),
    )
}
# Etsy's ShopListing names the type `listing_type`; updateListing takes it as `type`.
READ_NAMES = {"type": "listing_type"}


def etsy_listing_value(listing: Json, field: str) -> Any:
    """The current value of an updateListing field in a ShopListing answer."""
    return listing.get(READ_NAMES.get(field, field))


def form_value(value: Any) -> str:
    """A field value as updateListing's form takes it: lists comma-separated, booleans lower-case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if value is None:
        return "0"  # shop_section_id: 0 takes the listing out of its section
    return str(value)


def listing_form(fields: Json) -> dict[str, str]:
    unknown = sorted(set(fields) - set(LISTING_FIELDS))
    if unknown:
        raise ValueError(f"updateListing does not accept {unknown}")
    return {name: form_value(value) for name, value in fields.items()}


def receipt_form(fields: Json) -> dict[str, str]:
    """updateShopReceipt's form: only `was_shipped` and `was_paid`."""
    return {name: form_value(bool(fields[name])) for name in ("was_shipped", "was_paid") if name in fields}


def shipment_body(carrier_name: str, tracking_code: str, note_to_buyer: str | None) -> Json:
    body: Json = {"tracking_code": tracking_code, "carrier_name": carrier_name, "send_bcc": False}
    if note_to_buyer:
        body["note_to_buyer"] = note_to_buyer
    return body
