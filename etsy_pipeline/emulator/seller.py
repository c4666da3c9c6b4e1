"""Edits a seller makes on Etsy itself (Shop Manager), for tests of what a client does when Etsy moved.

- POST /_emulator/seller/inventory {"listing_id", "sku", "quantity"}: set one product's stock
- POST /_emulator/seller/listing {"listing_id", "title"?, "description"?, "tags"?, "state"?}

Both follow Etsy's own rules (title characters, activation, sold-out moves), bump the listing's
`updated_timestamp` like any edit, and answer the ShopListing as it now is. They are not the client's calls,
so they do not count in the stats.
"""

from __future__ import annotations

from typing import Any

from etsy_pipeline.emulator import listing_rules, render
from etsy_pipeline.emulator.errors import BadRequest
from etsy_pipeline.emulator.handlers import listing_fields
from etsy_pipeline.emulator.models import Listing
from etsy_pipeline.emulator.state import EmulatorState


def _listing(state: EmulatorState, payload: dict[str, Any], allowed: set[str]) -> Listing:
    unknown = sorted(set(payload) - allowed)
    if unknown:
        raise BadRequest(f"unknown field(s) {unknown}; known: {sorted(allowed)}")
    ident = payload.get("listing_id")
    found = state.world.listings.get(ident) if isinstance(ident, int) and not isinstance(ident, bool) else None
    if found is None:
        raise BadRequest(f"listing_id must be an existing listing's id, got {ident!r}")
    return found


def edit_inventory(state: EmulatorState, payload: dict[str, Any]) -> Any:
    listing = _listing(state, payload, {"listing_id", "sku", "quantity"})
    sku, quantity = payload.get("sku"), payload.get("quantity")
    product = next((p for p in listing.inventory.products if isinstance(sku, str) and p.sku == sku), None)
    if product is None:
        skus = [p.sku for p in listing.inventory.products]
        raise BadRequest(f"sku must be one of listing {listing.listing_id}'s SKUs {skus}, got {sku!r}")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= 999:
        raise BadRequest(f"quantity must be an integer from 0 to 999, got {quantity!r}")
    product.offering.quantity = quantity
    if state.quirks.inventory_ids_change:  # Etsy rebuilds the products on any inventory edit
        for p in listing.inventory.products:
            p.offering.offering_id, p.product_id = state.world.new_id(), state.world.new_id()
    now = state.clock.now()
    listing_rules.touch(listing, now)
    listing_rules.after_stock_change(listing, now)
    state.changed()
    return render.listing(listing, state.world.shops[listing.shop_id].currency)


def edit_listing(state: EmulatorState, payload: dict[str, Any]) -> Any:
    listing = _listing(state, payload, {"listing_id", "title", "description", "tags", "state"})
    form: dict[str, list[str]] = {}
    for name in ("title", "description", "state"):
        if name in payload:
            if not isinstance(payload[name], str):
                raise BadRequest(f"{name} must be a string, got {payload[name]!r}")
            form[name] = [payload[name]]
    if "tags" in payload:
        tags = payload["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise BadRequest(f"tags must be a list of strings, got {tags!r}")
        form["tags"] = tags or [""]
    if not form:
        raise BadRequest("give at least one of title, description, tags, state")
    shop = state.world.shops[listing.shop_id]
    listing_fields.apply(state, listing, shop, form)
    return render.listing(listing, shop.currency)
