"""What a handler receives, and the lookups every area shares (a shop, a listing, a receipt of the caller)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from etsy_pipeline.emulator.auth import Grant
from etsy_pipeline.emulator.errors import Forbidden, NotFound
from etsy_pipeline.emulator.models import Listing, Receipt, Shop
from etsy_pipeline.emulator.state import EmulatorState

Json = Any


@dataclass
class Call:
    state: EmulatorState
    path: dict[str, int]
    query: dict[str, str]
    grant: Grant | None = None
    form: dict[str, list[str]] = field(default_factory=dict)
    body: Any = None

    def form_value(self, name: str) -> str | None:
        values = self.form.get(name) or self.form.get(f"{name}[]")
        return values[-1] if values else None

    def form_list(self, name: str) -> list[str] | None:
        values = self.form.get(name) or self.form.get(f"{name}[]")
        if values is None:
            return None
        if len(values) == 1:
            return [v.strip() for v in values[0].split(",") if v.strip()]
        return values


def shop(call: Call) -> Shop:
    found = call.state.world.shops.get(call.path["shop_id"])
    if found is None:
        raise NotFound(f"Could not find a Shop with shop_id = {call.path['shop_id']}")
    return found


def owned_shop(call: Call) -> Shop:
    """The shop in the path, which the token's user must own (Etsy answers 403 otherwise)."""
    found = shop(call)
    if call.grant is None or call.grant.user_id != found.user_id:
        raise Forbidden("The application does not have permission to access this shop's private data")
    return found


def listing(call: Call) -> Listing:
    found = call.state.world.listings.get(call.path["listing_id"])
    if found is None:
        raise NotFound(f"Could not find a Listing with listing_id = {call.path['listing_id']}")
    return found


def owned_listing(call: Call) -> Listing:
    found = listing(call)
    owner = call.state.world.shops[found.shop_id].user_id
    if call.grant is None or call.grant.user_id != owner:
        raise Forbidden("The application does not have permission to access this listing")
    return found


def is_owner(call: Call, user_id: int) -> bool:
    return call.grant is not None and call.grant.user_id == user_id


def receipt(call: Call) -> Receipt:
    found_shop = owned_shop(call)
    found = call.state.world.receipts.get(call.path["receipt_id"])
    if found is None or found.shop_id != found_shop.shop_id:
        raise NotFound(f"Could not find a Receipt with receipt_id = {call.path['receipt_id']}")
    return found


def paged(count: int, results: list[Json]) -> Json:
    return {"count": count, "results": results}
