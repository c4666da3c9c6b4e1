"""Etsy wins conflicts, field by field: a seller's edit in Shop Manager after a local edit of the same field keeps
Etsy's value; an edit of another field does not stop the push."""

from __future__ import annotations

from sqlalchemy import select

from etsy_pipeline.storage.models import Inventory, Listing, PendingChange
from etsy_pipeline.storage.repositories.offering_edits import OfferingEdit
from etsy_pipeline_tests.push.conftest import Pushing


def _change(pushing: Pushing) -> PendingChange:
    with pushing.runtime.db.session() as session:
        change = session.scalars(select(PendingChange)).one()
        session.expunge(change)
        return change


def _writes(pushing: Pushing, kind: str, listing_id: int) -> int:
    return int(pushing.inst.stats()[kind].get(str(listing_id), 0))


def test_seller_edit_of_the_same_title_wins(pushing: Pushing) -> None:
    listing = pushing.listings()[0]
    pushing.runtime.repos.listings.edit(pushing.user_id, listing.listing_id, {"title": "Our new title"})
    pushing.inst.admin("seller/listing", listing_id=listing.listing_id, title="The seller's title")

    summary = pushing.push()

    assert (summary.conflict, summary.confirmed) == (1, 0)
    assert pushing.etsy(f"/listings/{listing.listing_id}")["title"] == "The seller's title"
    assert _writes(pushing, "listing_writes", listing.listing_id) == 0  # nothing written by us
    change = _change(pushing)
    assert change.status == "conflict"
    assert change.etsy_value == {"title": "The seller's title"}
    assert change.payload["fields"] == {"title": "Our new title"}  # both values kept
    with pushing.runtime.db.session() as session:
        core = session.scalar(select(Listing.title).where(Listing.etsy_listing_id == listing.listing_id))
    assert core == "The seller's title"


def test_seller_edit_of_another_field_is_not_a_conflict(pushing: Pushing) -> None:
    listing = pushing.listings()[1]
    pushing.runtime.repos.listings.edit(pushing.user_id, listing.listing_id, {"title": "Our new title"})
    pushing.inst.admin("seller/listing", listing_id=listing.listing_id, description="Described by the seller")

    summary = pushing.push()

    assert (summary.conflict, summary.confirmed) == (0, 1)
    on_etsy = pushing.etsy(f"/listings/{listing.listing_id}")
    assert (on_etsy["title"], on_etsy["description"]) == ("Our new title", "Described by the seller")
    assert _writes(pushing, "listing_writes", listing.listing_id) == 1
    with pushing.runtime.db.session() as session:
        row = session.scalars(select(Listing).where(Listing.etsy_listing_id == listing.listing_id)).one()
        assert (row.title, row.etsy_updated_timestamp) == ("Our new title", on_etsy["updated_timestamp"])


def test_seller_stock_edit_of_the_same_offering_wins(pushing: Pushing) -> None:
    listing = pushing.listings(variations=True)[0]
    sku = listing.inventory.products[0].sku
    pushing.runtime.repos.inventory.edit_offerings(
        pushing.user_id, [OfferingEdit(listing.listing_id, sku=sku, quantity=42)]
    )
    pushing.inst.admin("seller/inventory", listing_id=listing.listing_id, sku=sku, quantity=5)

    summary = pushing.push()

    assert (summary.conflict, summary.confirmed) == (1, 0)
    assert pushing.etsy_offerings(listing.listing_id)[sku]["quantity"] == 5
    assert _writes(pushing, "inventory_writes", listing.listing_id) == 0
    change = _change(pushing)
    assert (change.status, change.etsy_value, change.payload["quantity"]) == ("conflict", {"quantity": 5}, 42)
    with pushing.runtime.db.session() as session:
        core = session.scalar(select(Inventory.quantity).where(Inventory.sku == sku))
    assert core == 5


def test_seller_stock_edit_of_another_offering_is_not_a_conflict(pushing: Pushing) -> None:
    listing = pushing.listings(variations=True)[0]
    ours, theirs = (p.sku for p in listing.inventory.products[:2])
    pushing.runtime.repos.inventory.edit_offerings(
        pushing.user_id, [OfferingEdit(listing.listing_id, sku=ours, quantity=42)]
    )
    pushing.inst.admin("seller/inventory", listing_id=listing.listing_id, sku=theirs, quantity=5)

    summary = pushing.push()

    assert (summary.conflict, summary.confirmed) == (0, 1)
    offerings = pushing.etsy_offerings(listing.listing_id)
    assert (offerings[ours]["quantity"], offerings[theirs]["quantity"]) == (42, 5)
    assert _writes(pushing, "inventory_writes", listing.listing_id) == 1


def test_a_stock_adjustment_applies_to_etsys_current_stock(pushing: Pushing) -> None:
    listing = pushing.listings(variations=True)[1]
    sku = listing.inventory.products[0].sku
    pushing.runtime.repos.inventory.edit_offerings(
        pushing.user_id, [OfferingEdit(listing.listing_id, sku=sku, delta=3)]
    )
    pushing.inst.admin("seller/inventory", listing_id=listing.listing_id, sku=sku, quantity=10)  # a sale, a recount

    assert pushing.push().confirmed == 1
    assert pushing.etsy_offerings(listing.listing_id)[sku]["quantity"] == 13
