"""Listing, image and inventory operations, including the two writes (updateListing, updateListingInventory)."""

from __future__ import annotations

from collections.abc import Callable

from etsy_pipeline.emulator import params, render
from etsy_pipeline.emulator.errors import NotFound
from etsy_pipeline.emulator.handlers import listing_fields
from etsy_pipeline.emulator.handlers.base import Call, Json, is_owner, listing, owned_listing, owned_shop, paged
from etsy_pipeline.emulator.models import Listing

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
        partners=found_shop.production_partners,
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
    count = len(ids)  # Etsy counts listings, not page entries: the overlap can push the last ones past `count`
    if call.state.quirks.listing_page_overlap:
        ids = overlapping(ids)
    page = [call.state.world.listings[i] for i in ids[offset : offset + limit]]
    results = [_with_associations(call, item, includes) for item in page]
    call.state.faults.corrupt(results)
    return paged(count, results)


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


# -- updateListing -------------------------------------------------------------------------------------------


def update_listing(call: Call) -> Json:
    found_shop = owned_shop(call)
    item = owned_listing(call)
    if item.shop_id != call.path["shop_id"]:
        raise NotFound(f"Could not find a Listing with listing_id = {item.listing_id} in this shop")
    listing_fields.apply(call.state, item, found_shop, call.form)
    call.state.stats.listing_writes[item.listing_id] += 1
    return render.listing(item, found_shop.currency)
