"""Unknown outcomes are read back, transient errors retried, and no write reaches Etsy twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from etsy_pipeline.push.claims import claim, database_now
from etsy_pipeline.storage.models import PendingChange
from etsy_pipeline.storage.repositories.offering_edits import OfferingEdit
from etsy_pipeline_tests.push.conftest import Pushing


def _statuses(pushing: Pushing) -> dict[str, int]:
    with pushing.runtime.db.session() as session:
        rows = session.execute(select(PendingChange.status, func.count()).group_by(PendingChange.status))
        return {status: count for status, count in rows}


def _queue_work(pushing: Pushing) -> tuple[list[int], list[int], list[int]]:
    """Stock edits on six listings, a title edit on two more, a shipment on every unshipped order."""
    repos, user = pushing.runtime.repos, pushing.user_id
    stocked = pushing.listings()[:6]
    for n, listing in enumerate(stocked):
        for product in listing.inventory.products:
            edit = OfferingEdit(listing.listing_id, sku=product.sku, quantity=n + 20)
            repos.inventory.edit_offerings(user, [edit])
    titled = pushing.listings()[6:8]
    for listing in titled:
        repos.listings.edit(user, listing.listing_id, {"title": f"Retitled {listing.listing_id}"})
    receipts = pushing.open_receipts()
    for r in receipts:
        repos.orders.ship(user, r.receipt_id, carrier="usps", tracking_code=f"TRACK{r.receipt_id}")
    return [x.listing_id for x in stocked], [x.listing_id for x in titled], [r.receipt_id for r in receipts]


def _faults(pushing: Pushing, **rates: Any) -> None:
    pushing.inst.admin("faults", **rates)


def test_shipment_answered_503_after_it_was_applied_is_sent_once(pushing: Pushing) -> None:
    receipts = pushing.open_receipts()
    for r in receipts:
        pushing.runtime.repos.orders.ship(
            pushing.user_id, r.receipt_id, carrier="usps", tracking_code=f"T{r.receipt_id}"
        )
    _faults(pushing, write_applied_error_rate=1.0)

    summary = pushing.push()

    assert summary.confirmed == len(receipts) >= 2
    stats = pushing.inst.stats()
    for r in receipts:
        assert stats["shipments_created"][str(r.receipt_id)] == 1
        assert stats["buyer_emails"][str(r.receipt_id)] == 1
    _faults(pushing, write_applied_error_rate=0.0)
    for r in receipts:
        shipments = pushing.etsy(f"/shops/{pushing.etsy_shop_id}/receipts/{r.receipt_id}")["shipments"]
        assert [s["tracking_code"] for s in shipments].count(f"T{r.receipt_id}") == 1


def test_inventory_answered_503_after_it_was_applied_is_confirmed_by_reading_back(pushing: Pushing) -> None:
    listing = pushing.listings(variations=True)[0]
    sku = listing.inventory.products[0].sku
    pushing.runtime.repos.inventory.edit_offerings(
        pushing.user_id, [OfferingEdit(listing.listing_id, sku=sku, quantity=77)]
    )
    _faults(pushing, write_applied_error_rate=1.0)
    before = pushing.calls()

    summary = pushing.push()

    assert summary.confirmed == 1
    after = pushing.calls()
    assert after["getListingInventory"] - before.get("getListingInventory", 0) == 2  # the read, the read-back
    assert after["updateListingInventory"] - before.get("updateListingInventory", 0) == 1
    assert pushing.inst.stats()["inventory_writes"][str(listing.listing_id)] == 1
    _faults(pushing, write_applied_error_rate=0.0)
    assert pushing.etsy_offerings(listing.listing_id)[sku]["quantity"] == 77


def test_server_errors_and_429_bursts_end_confirmed_without_a_duplicate_write(pushing: Pushing) -> None:
    stocked, titled, receipts = _queue_work(pushing)
    _faults(pushing, error_500_rate=0.05, error_503_rate=0.05, burst_429_rate=0.05, burst_429_length=3,
            write_applied_error_rate=0.1, seed=11)  # fmt: skip
    for _ in range(10):  # backoff is 0 here, so each run takes what the previous one left for retry
        pushing.push()
        if set(_statuses(pushing)) == {"confirmed"}:
            break
    assert set(_statuses(pushing)) == {"confirmed"}
    stats = pushing.inst.stats()
    assert stats["faults"]  # the faults did happen
    assert {stats["inventory_writes"][str(x)] for x in stocked} == {1}
    assert {stats["listing_writes"][str(x)] for x in titled} == {1}
    assert {stats["shipments_created"][str(r)] for r in receipts} == {1}
    assert {stats["buyer_emails"][str(r)] for r in receipts} == {1}


def test_a_change_sent_by_a_runner_that_died_is_confirmed_without_sending_again(pushing: Pushing) -> None:
    receipt = pushing.open_receipts()[0]
    pushing.runtime.repos.orders.ship(pushing.user_id, receipt.receipt_id, carrier="usps", tracking_code="DIED1")
    # A runner claims the change with a lease that is already over, sends the shipment, and dies.
    claimed = claim(pushing.runtime.db, "dead-runner", 1, database_now(pushing.runtime.db))
    assert [c.change_type for c in claimed] == ["shipment"]
    path = f"/shops/{pushing.etsy_shop_id}/receipts/{receipt.receipt_id}/tracking"
    pushing.inst.access.client.write(
        "POST", path, tokens=pushing.tokens(), json={"tracking_code": "DIED1", "carrier_name": "usps"}
    )
    with pushing.runtime.db.session() as session:  # its lease runs out
        session.execute(update(PendingChange).values(claimed_until=func.now() - func.make_interval(0, 0, 0, 0, 0, 1)))

    summary = pushing.push()

    assert summary.confirmed == 1
    assert pushing.inst.stats()["shipments_created"][str(receipt.receipt_id)] == 1
    assert pushing.inst.stats()["buyer_emails"][str(receipt.receipt_id)] == 1
