"""Rules a listing edit must follow on Etsy, shared by updateListing and the seller's own edits (admin API).

Activation (from Etsy's updateListing documentation): a physical listing needs a complete shipping profile,
and a return policy unless the shop is in the EU; a digital listing that is not made to order needs a file;
publishing a draft needs an image. A sold-out listing set active gets quantity 1 (Etsy renews it so). A
refusal is a 409, the status Etsy documents for a request that conflicts with the listing's state.
"""

from __future__ import annotations

from etsy_pipeline.emulator.errors import Conflict
from etsy_pipeline.emulator.models import Listing, Shop

EU = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()  # noqa: SIM905
)
PHYSICAL = ("physical", "both")
DIGITAL = ("download", "both")


def touch(listing: Listing, now: int) -> None:
    """Move `updated_timestamp` forward for an edit: to now, and at least one second past the last edit, so
    every edit shows even under a frozen clock (a client detects a seller's edit by this timestamp)."""
    listing.updated = max(now, listing.updated + 1)


def activation_problem(listing: Listing, shop: Shop) -> str | None:
    """Why `listing` (with the edit's other fields already applied) cannot go active, or None."""
    if listing.state == "draft" and not listing.images:
        return "A draft listing needs at least one image to be published"
    if listing.listing_type in PHYSICAL:
        profile = listing.shipping_profile_id
        if profile is None:
            return "A physical listing needs a shipping_profile_id to be active"
        if not shop.shipping_profiles.get(profile, False):
            return f"Shipping profile {profile} is not complete: add its destinations before activating"
        if listing.return_policy_id is None and shop.country_iso not in EU:
            return "A physical listing needs a return_policy_id to be active (shops outside the EU)"
    if listing.listing_type in DIGITAL and listing.when_made != "made_to_order" and not listing.has_file:
        return "A digital listing that is not made to order needs a file to be active"
    if listing.quantity == 0 and listing.state != "sold_out":
        return "Cannot activate a listing with no quantity"
    return None


def check_state(listing: Listing, shop: Shop, state: str) -> None:
    """Refuse (409) a move to `state` that Etsy would refuse."""
    if state == "active" and listing.state != "active":
        problem = activation_problem(listing, shop)
        if problem is not None:
            raise Conflict(problem)


def set_state(listing: Listing, shop: Shop, state: str, now: int) -> bool:
    """Move the listing to `state` ("active" or "inactive"); False when it already was there."""
    if state == listing.state:
        return False
    check_state(listing, shop, state)
    if state == "active" and listing.quantity == 0:  # sold out: Etsy sets the quantity to 1 and renews it
        products = listing.inventory.products
        product = next((p for p in products if p.offering.is_enabled), products[0])
        product.offering.quantity, product.offering.is_enabled = 1, True
    listing.state, listing.state_timestamp = state, now
    return True


def after_stock_change(listing: Listing, now: int) -> None:
    """Etsy's automatic state moves: an active listing whose stock runs out is sold out, and back when restocked."""
    if listing.state == "active" and listing.quantity == 0:
        listing.state, listing.state_timestamp = "sold_out", now
    elif listing.state == "sold_out" and listing.quantity > 0:
        listing.state, listing.state_timestamp = "active", now
