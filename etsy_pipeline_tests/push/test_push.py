"""Every kind of local change reaches Etsy, checked on Etsy's side through the emulator's API."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from etsy_pipeline.storage.models import Inventory, Listing, Order, PendingChange
from etsy_pipeline.storage.repositories.offering_edits import OfferingEdit
from etsy_pipeline_tests.push.conftest import Pushing


def test_every_kind_of_change_reaches_etsy(pushing: Pushing) -> None:
    repos, user = pushing.runtime.repos, pushing.user_id
    stocked, priced, adjusted = pushing.listings(variations=False)[:3]
    edited = pushing.listings()[5]
    receipt, paid = pushing.open_receipts()[:2]
    start = pushing.etsy_offerings(adjusted.listing_id)[adjusted.inventory.products[0].sku]["quantity"]
    repos.inventory.edit_offerings(
        user,
        [
            OfferingEdit(stocked.listing_id, sku=stocked.inventory.products[0].sku, quantity=17),
            OfferingEdit(priced.listing_id, sku=priced.inventory.products[0].sku, price=Decimal("23.45")),
            OfferingEdit(adjusted.listing_id, sku=adjusted.inventory.products[0].sku, delta=-1),
        ],
    )
    repos.listings.edit(user, edited.listing_id, {"title": "Hand-thrown mug", "tags": ["mug", "clay"]})
    repos.orders.ship(user, receipt.receipt_id, carrier="usps", tracking_code="9400111", note="Enjoy")
    repos.orders.set_status(user, paid.receipt_id, was_paid=True, was_shipped=True)

    summary = pushing.push()

    assert (summary.confirmed, summary.conflict, summary.failed, summary.retry) == (6, 0, 0, 0)
    assert pushing.etsy_offerings(stocked.listing_id)[stocked.inventory.products[0].sku]["quantity"] == 17
    assert pushing.etsy_offerings(priced.listing_id)[priced.inventory.products[0].sku]["price"] == 23.45
    assert pushing.etsy_offerings(adjusted.listing_id)[adjusted.inventory.products[0].sku]["quantity"] == start - 1
    listing = pushing.etsy(f"/listings/{edited.listing_id}")
    assert (listing["title"], listing["tags"]) == ("Hand-thrown mug", ["mug", "clay"])
    shop = pushing.etsy_shop_id
    shipped = pushing.etsy(f"/shops/{shop}/receipts/{receipt.receipt_id}")
    assert [s["tracking_code"] for s in shipped["shipments"]][-1] == "9400111"
    assert shipped["is_shipped"] is True
    status = pushing.etsy(f"/shops/{shop}/receipts/{paid.receipt_id}")
    assert (status["is_paid"], status["is_shipped"]) == (True, True)
    assert pushing.inst.stats()["buyer_emails"][str(receipt.receipt_id)] == 1

    with pushing.runtime.db.session() as session:
        states = set(session.scalars(select(PendingChange.status)))
        assert states == {"confirmed"}
        assert all(session.scalars(select(PendingChange.confirmed_at)))
        # Etsy's answer is in core: the new offering id, and the listing's updated_timestamp.
        product = pushing.etsy(f"/listings/{stocked.listing_id}/inventory")["products"][0]
        row = session.scalars(
            select(Inventory).join(Listing).where(Listing.etsy_listing_id == stocked.listing_id)
        ).one()
        assert (row.etsy_offering_id, row.quantity) == (product["offerings"][0]["offering_id"], 17)
        stamp = session.scalar(
            select(Listing.etsy_updated_timestamp).where(Listing.etsy_listing_id == edited.listing_id)
        )
        assert stamp == listing["updated_timestamp"]
        order = session.scalars(select(Order).where(Order.etsy_receipt_id == paid.receipt_id)).one()
        assert order.etsy_updated_timestamp == status["updated_timestamp"]


def test_twenty_edits_of_one_listing_cost_one_read_and_one_write(pushing: Pushing) -> None:
    listing = pushing.listings(variations=True)[0]
    skus = [p.sku for p in listing.inventory.products]
    edits = [OfferingEdit(listing.listing_id, sku=skus[n % len(skus)], quantity=n + 1) for n in range(20)]
    for edit in edits:  # twenty separate edits, as a user would make them
        pushing.runtime.repos.inventory.edit_offerings(pushing.user_id, [edit])
    before = pushing.calls()

    summary = pushing.push()

    after = pushing.calls()
    spent = {k: after.get(k, 0) - before.get(k, 0) for k in after if after.get(k, 0) != before.get(k, 0)}
    assert spent == {"getListingInventory": 1, "updateListingInventory": 1}
    assert summary.confirmed == 20
    assert pushing.inst.stats()["inventory_writes"][str(listing.listing_id)] == 1
    last = {edit.sku: edit.quantity for edit in edits}  # the latest edit of each offering wins
    assert {sku: v["quantity"] for sku, v in pushing.etsy_offerings(listing.listing_id).items()} == last


def test_a_second_run_finds_nothing_due(pushing: Pushing) -> None:
    listing = pushing.listings(variations=False)[0]
    sku = listing.inventory.products[0].sku
    edit = OfferingEdit(listing.listing_id, sku=sku, quantity=3)
    pushing.runtime.repos.inventory.edit_offerings(pushing.user_id, [edit])
    assert pushing.push().confirmed == 1
    before = pushing.calls()
    again = pushing.push()
    assert (again.confirmed, again.api_calls) == (0, 0)
    assert pushing.calls() == before
