"""Listing, image and inventory operations, including the two writes (updateListing, updateListingInventory)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from etsy_pipeline.emulator import params, render
from etsy_pipeline.emulator.errors import BadRequest, NotFound
from etsy_pipeline.emulator.handlers.base import Call, Json, is_owner, listing, owned_listing, owned_shop, paged
from etsy_pipeline.emulator.models import Inventory, Listing, Offering, Product, PropertyValue

STATES = ("active", "inactive", "sold_out", "draft", "expired")
LISTING_INCLUDES = (
    "Shipping",
    "Images",
    "Shop",
    "User",
    "Translations",
    "Inventory",
    "Videos",
    "Personalization",
    "BuyerPrice",
)
LISTING_SORT_KEYS: dict[str, Callable[[Listing], int]] = {
    "created": lambda x: x.created,
    "price": lambda x: x.price,
    "updated": lambda x: x.updated,
    "score": lambda x: x.num_favorers,
}
SINGLE_INCLUDES = tuple(i for i in LISTING_INCLUDES if i not in ("Shipping", "Inventory"))


def _with_associations(call: Call, item: Listing, includes: set[str]) -> Json:
    state = call.state
    found_shop = state.world.shops[item.shop_id]
    shop_json = user_json = None
    if "Shop" in includes:
        shop_json = render.shop(
            found_shop,
            state.active_count(found_shop.shop_id),
            state.sold_count(found_shop.shop_id),
            state.review_summary(found_shop.shop_id),
        )
    if "User" in includes:
        user_json = render.user(state.world.users[item.user_id])
    return render.listing_with_associations(
        item,
        found_shop.currency,
        owner=is_owner(call, found_shop.user_id),
        includes=includes,
        shop_json=shop_json,
        user_json=user_json,
    )


def overlapping(ids: list[int]) -> list[int]:
    """Etsy's listing pages can overlap: a listing at a page boundary shows up again on the next page."""
    out: list[int] = []
    for ident in ids:
        if out and len(out) % 100 == 0:
            out.append(out[-1])
        out.append(ident)
    return out


def get_listings_by_shop(call: Call) -> Json:
    found = owned_shop(call)
    state = params.choice(call.query, "state", STATES, "active")
    limit, offset = params.page(call.query)
    sort_on = params.choice(call.query, "sort_on", ("created", "price", "updated", "score"), "created")
    descending = params.descending(call.query)
    includes = params.includes(call.query, LISTING_INCLUDES)
    ids = call.state.listings_of(found.shop_id, state)
    if sort_on != "created" or not descending:
        key = LISTING_SORT_KEYS[sort_on]
        ids = sorted(ids, key=lambda i: (key(call.state.world.listings[i]), i), reverse=descending)
    if call.state.quirks.listing_page_overlap:
        ids = overlapping(ids)
    page = [call.state.world.listings[i] for i in ids[offset : offset + limit]]
    results = [_with_associations(call, item, includes) for item in page]
    call.state.faults.corrupt(results)
    return paged(len(ids), results)


def get_listing(call: Call) -> Json:
    item = listing(call)
    includes = params.includes(call.query, SINGLE_INCLUDES)
    if item.state != "active" and not is_owner(call, call.state.world.shops[item.shop_id].user_id):
        raise NotFound(f"Could not find a Listing with listing_id = {item.listing_id}")
    return _with_associations(call, item, includes)


def get_listings_by_ids(call: Call) -> Json:
    ids = params.id_list(call.query, "listing_ids")
    includes = params.includes(call.query, SINGLE_INCLUDES)
    found = [call.state.world.listings[i] for i in ids if i in call.state.world.listings]
    results = [_with_associations(call, item, includes) for item in found if item.state == "active"]
    return paged(len(results), results)


def get_images(call: Call) -> Json:
    item = listing(call)
    results = [render.image(item.listing_id, i) for i in item.images]
    return paged(len(results), results)


def get_inventory(call: Call) -> Json:
    item = owned_listing(call)
    params.choice(call.query, "includes", ("Listing",), "")
    params.boolean(call.query, "show_deleted")
    currency = call.state.world.shops[item.shop_id].currency
    body = render.inventory(item.inventory, currency)
    # The document's ListingInventoryWithAssociations lists `listing` as a non-nullable object, so it is always
    # sent; `includes=Listing` is accepted for compatibility.
    body["listing"] = render.listing(item, currency)
    return body


# -- updateListingInventory ------------------------------------------------------------------------------------


def _property_values(raw: Any, where: str) -> list[PropertyValue]:
    if not isinstance(raw, list):
        raise BadRequest(f"Expected array for '{where}.property_values'")
    values = []
    for n, item in enumerate(raw):
        if not isinstance(item, dict):
            raise BadRequest(f"Expected object for '{where}.property_values[{n}]'")
        extra = set(item) - {"property_id", "value_ids", "values", "scale_id", "property_name"}
        if extra:
            raise BadRequest("Array contains invalid keys: " + ", ".join(sorted(extra)))
        if not item.get("value_ids") or not item.get("values"):
            raise BadRequest("Property values can't be empty")
        if not isinstance(item.get("property_id"), int):
            raise BadRequest(f"Expected int value for '{where}.property_values[{n}].property_id'")
        values.append(
            PropertyValue(
                item["property_id"],
                str(item.get("property_name") or ""),
                int(item["value_ids"][0]),
                str(item["values"][0]),
            )
        )
    return values


def _offering(raw: Any, where: str, divisor: int, old: Offering | None, new_ids: bool, next_id: Any) -> Offering:
    if not isinstance(raw, list) or len(raw) != 1 or not isinstance(raw[0], dict):
        raise BadRequest(f"Expected an array with one offering for '{where}.offerings'")
    offer = raw[0]
    extra = set(offer) - {"price", "quantity", "is_enabled", "readiness_state_id"}
    if extra:
        raise BadRequest("Array contains invalid keys: " + ", ".join(sorted(extra)))
    price = offer.get("price")
    if isinstance(price, bool) or not isinstance(price, int | float):
        raise BadRequest(f"Expected float value for 'price' (got {'NULL' if price is None else type(price).__name__})")
    if price <= 0:
        raise BadRequest("Price must be above min price")
    quantity = offer.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= 999:
        raise BadRequest(f"Expected int value between 0 and 999 for '{where}.offerings[0].quantity'")
    enabled = offer.get("is_enabled", True)
    if not isinstance(enabled, bool):
        raise BadRequest(f"Expected boolean value for '{where}.offerings[0].is_enabled'")
    ident = next_id() if new_ids or old is None else old.offering_id
    return Offering(ident, round(price * divisor), quantity, enabled, offer.get("readiness_state_id"))


def update_inventory(call: Call) -> Json:
    item = owned_listing(call)
    body = call.body
    if not isinstance(body, dict) or "products" not in body:
        raise BadRequest("Missing Input Parameter: [products]")
    raw_products = body["products"]
    if not isinstance(raw_products, list) or not raw_products:
        raise BadRequest("Expected a non-empty array for 'products'")
    state = call.state
    currency = state.world.shops[item.shop_id].currency
    new_ids = state.quirks.inventory_ids_change
    old_by_key = {tuple((v.property_id, v.value_id) for v in p.property_values): p for p in item.inventory.products}
    products: list[Product] = []
    seen: set[tuple[tuple[int, int], ...]] = set()
    for n, raw in enumerate(raw_products):
        where = f"products[{n}]"
        if not isinstance(raw, dict):
            raise BadRequest(f"Expected object for '{where}'")
        extra = set(raw) - {"sku", "property_values", "offerings"}
        if extra:
            raise BadRequest("Array contains invalid keys: " + ", ".join(sorted(extra)))
        values = _property_values(raw.get("property_values", []), where)
        key = tuple((v.property_id, v.value_id) for v in values)
        if key in seen:
            raise BadRequest(f"Duplicate product for property values {list(key)}")
        seen.add(key)
        old = old_by_key.get(key)
        offering = _offering(
            raw.get("offerings"), where, currency.divisor, old.offering if old else None, new_ids, state.world.new_id
        )
        sku = raw.get("sku")
        if sku is not None and not isinstance(sku, str):
            raise BadRequest(f"Expected string value for '{where}.sku'")
        product_id = state.world.new_id() if new_ids or old is None else old.product_id
        products.append(Product(product_id, sku or "", values, offering))
    varying = sorted({v.property_id for p in products for v in p.property_values})
    on_property: dict[str, list[int]] = {}
    for name in ("price_on_property", "quantity_on_property", "sku_on_property"):
        value = body.get(name, [])
        if not isinstance(value, list) or any(not isinstance(v, int) for v in value):
            raise BadRequest(f"Expected array of integers for '{name}'")
        if set(value) - set(varying):
            raise BadRequest(f"'{name}' names properties that do not vary: {sorted(set(value) - set(varying))}")
        on_property[name] = value
    item.inventory = Inventory(
        products, on_property["price_on_property"], on_property["quantity_on_property"], on_property["sku_on_property"]
    )
    item.updated = state.clock.now()
    if item.state == "active" and item.quantity == 0:
        item.state, item.state_timestamp = "sold_out", item.updated
    elif item.state == "sold_out" and item.quantity > 0:
        item.state, item.state_timestamp = "active", item.updated
    state.stats.inventory_writes[item.listing_id] += 1
    state.changed()
    return render.inventory(item.inventory, currency)


# -- updateListing -------------------------------------------------------------------------------------------

EDITABLE_TEXT = ("title", "description")
FORBIDDEN_FIELDS = ("price", "quantity", "sku")


def update_listing(call: Call) -> Json:
    owned_shop(call)
    item = owned_listing(call)
    if item.shop_id != call.path["shop_id"]:
        raise NotFound(f"Could not find a Listing with listing_id = {item.listing_id} in this shop")
    for name in FORBIDDEN_FIELDS:
        if call.form_value(name) is not None:
            raise BadRequest(f"Invalid parameter '{name}': {name} can only be changed with updateListingInventory")
    changed = False
    for name in EDITABLE_TEXT:
        value = call.form_value(name)
        if value is not None:
            if not value.strip():
                raise BadRequest(f"Invalid value for {name}: must not be empty")
            if name == "title" and any(value.count(ch) > 1 for ch in "%:&+"):
                raise BadRequest("Invalid value for title: each of % : & + may appear only once")
            setattr(item, name, value)
            changed = True
    for name in ("tags", "materials"):
        values = call.form_list(name)
        if values is not None:
            if name == "tags" and len(values) > 13:
                raise BadRequest("Invalid value for tags: at most 13 tags are allowed")
            setattr(item, name, values)
            changed = True
    new_state = call.form_value("state")
    if new_state is not None:
        if new_state not in ("active", "inactive"):
            raise BadRequest(f"Invalid value for state: '{new_state}' is not one of active, inactive")
        if new_state == "active" and item.quantity == 0:
            raise BadRequest("Cannot activate a listing with no quantity")
        if new_state != item.state:
            item.state, item.state_timestamp = new_state, call.state.clock.now()
            changed = True
    raw_section = call.form_value("shop_section_id")
    if raw_section is not None:
        section = params.integer({"shop_section_id": raw_section}, "shop_section_id")
        sections = {s.shop_section_id for s in call.state.world.shops[item.shop_id].sections}
        if section and section not in sections:
            raise BadRequest(f"Invalid value for shop_section_id: {section} is not a section of this shop")
        item.shop_section_id = section or None  # empty or 0 takes the listing out of its section
        changed = True
    if changed:
        item.updated = call.state.clock.now()
        call.state.stats.listing_writes[item.listing_id] += 1
        call.state.changed()
    return render.listing(item, call.state.world.shops[item.shop_id].currency)
