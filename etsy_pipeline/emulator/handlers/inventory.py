"""updateListingInventory: a full replace of a listing's products, checked as Etsy's document requires.

Each offering must carry `price`, `quantity`, `is_enabled` and `readiness_state_id` (null allowed, as the
document marks all four required); unknown keys are refused with Etsy's "Array contains invalid keys"; the
`*_on_property` arrays, `readiness_state_on_property` included, may only name properties that vary and are kept.
"""

from __future__ import annotations

from typing import Any

from etsy_pipeline.emulator import listing_rules, render
from etsy_pipeline.emulator.errors import BadRequest
from etsy_pipeline.emulator.handlers.base import Call, Json, owned_listing
from etsy_pipeline.emulator.models import Inventory, Offering, Product, PropertyValue

OFFERING_KEYS = ("price", "quantity", "is_enabled", "readiness_state_id")
ON_PROPERTY = ("price_on_property", "quantity_on_property", "sku_on_property", "readiness_state_on_property")


def _invalid_keys(found: dict[str, Any], allowed: set[str] | tuple[str, ...]) -> None:
    extra = set(found) - set(allowed)
    if extra:
        raise BadRequest("Array contains invalid keys: " + ", ".join(sorted(extra)))


def _property_values(raw: Any, where: str) -> list[PropertyValue]:
    if not isinstance(raw, list):
        raise BadRequest(f"Expected array for '{where}.property_values'")
    values = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            raise BadRequest(f"Expected object for '{where}.property_values[{n}]'")
        _invalid_keys(item, {"property_id", "value_ids", "values", "scale_id", "property_name"})
        if not item.get("value_ids") or not item.get("values"):
            raise BadRequest("Property values can't be empty")
        if not isinstance(item.get("property_id"), int):
            raise BadRequest(f"Expected int value for '{where}.property_values[{n}].property_id'")
        name, value_id, value = item.get("property_name") or "", item["value_ids"][0], item["values"][0]
        values.append(PropertyValue(item["property_id"], str(name), int(value_id), str(value)))
    return values


def _offering(raw: Any, where: str, divisor: int) -> Offering:
    """The checked offering; its id is set by the caller once the whole request is known to be valid."""
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], dict):
        raise BadRequest(f"Expected an array with one offering for '{where}.offerings'")
    offer = raw[0]
    _invalid_keys(offer, OFFERING_KEYS)
    missing = [k for k in OFFERING_KEYS if k not in offer]
    if missing:
        raise BadRequest(f"Missing Input Parameter: [{where}.offerings[0].{missing[0]}]")
    price = offer["price"]
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise BadRequest(f"Expected float value for 'price' (got {'NULL' if price is None else type(price).__name__})")
    if price <= 0:
        raise BadRequest("Price must be above min price")
    quantity = offer["quantity"]
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= 999:
        raise BadRequest(f"Expected int value between 0 and 999 for '{where}.offerings[0].quantity'")
    if not isinstance(offer["is_enabled"], bool):
        raise BadRequest(f"Expected boolean value for '{where}.offerings[0].is_enabled'")
    readiness = offer["readiness_state_id"]
    if readiness is not None and (isinstance(readiness, bool) or not isinstance(readiness, int) or readiness < 1):
        raise BadRequest(f"Expected a positive int or null for '{where}.offerings[0].readiness_state_id'")
    return Offering(0, round(price * divisor), quantity, offer["is_enabled"], readiness)


def _on_property(body: dict[str, Any], name: str, varying: set[int]) -> list[int]:
    value = body.get(name)
    if value is None and name == "readiness_state_on_property":  # the only nullable one
        return []
    value = [] if value is None and name not in body else value
    if not isinstance(value, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in value):
        raise BadRequest(f"Expected array of integers for '{name}'")
    if set(value) - varying:
        raise BadRequest(f"'{name}' names properties that do not vary: {sorted(set(value) - varying)}")
    return value


def update_inventory(call: Call) -> Json:
    item = owned_listing(call)
    body = call.body
    if not isinstance(body, dict) or "products" not in body:
        raise BadRequest("Missing Input Parameter: [products]")
    _invalid_keys(body, ("products", *ON_PROPERTY))
    raw_products = body["products"]
    if not isinstance(raw_products, list) or not raw_products:
        raise BadRequest("Expected a non-empty array for 'products'")
    state = call.state
    currency = state.world.shops[item.shop_id].currency
    old_by_key = {tuple((v.property_id, v.value_id) for v in p.property_values): p for p in item.inventory.products}
    products: list[Product] = []
    for n, raw in enumerate(raw_products):
        where = f"products[{n}]"
        if not isinstance(raw, dict):
            raise BadRequest(f"Expected object for '{where}'")
        _invalid_keys(raw, ("sku", "property_values", "offerings"))
        values = _property_values(raw.get("property_values", []), where)
        key = tuple((v.property_id, v.value_id) for v in values)
        if key in {tuple((v.property_id, v.value_id) for v in p.property_values) for p in products}:
            raise BadRequest(f"Duplicate product for property values {list(key)}")
        offering = _offering(raw.get("offerings"), where, currency.divisor)
        sku = raw.get("sku")
        if sku is not None and not isinstance(sku, str):
            raise BadRequest(f"Expected string value for '{where}.sku'")
        products.append(Product(0, sku or "", values, offering))
    varying = {v.property_id for p in products for v in p.property_values}
    arrays = {name: _on_property(body, name, varying) for name in ON_PROPERTY}
    for product in products:  # valid: now give ids, new ones unless the quirk keeps them
        key = tuple((v.property_id, v.value_id) for v in product.property_values)
        old = None if state.quirks.inventory_ids_change else old_by_key.get(key)
        product.offering.offering_id = old.offering.offering_id if old else state.world.new_id()
        product.product_id = old.product_id if old else state.world.new_id()
    item.inventory = Inventory(products, *(arrays[name] for name in ON_PROPERTY))
    now = state.clock.now()
    listing_rules.touch(item, now)
    listing_rules.after_stock_change(item, now)
    state.stats.inventory_writes[item.listing_id] += 1
    state.changed()
    return render.inventory(item.inventory, currency)
