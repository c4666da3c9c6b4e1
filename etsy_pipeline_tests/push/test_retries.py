"""Dead letters and `push retry`, a revoked token that holds back one shop only, and two runners at once."""

from __future__ import annotations

import threading

from sqlalchemy import select

from etsy_pipeline.push.engine import PushRun, PushSummary
from etsy_pipeline.storage.models import Listing, Order, PendingChange
from etsy_pipeline.storage.repositories.changes import ChangeRepository
from etsy_pipeline.storage.repositories.offering_edits import OfferingEdit
from etsy_pipeline_tests.push.conftest import Pushing


def _changes(pushing: Pushing) -> list[PendingChange]:
    with pushing.runtime.db.session() as session:
        rows = list(session.scalars(select(PendingChange).order_by(PendingChange.id)))
        session.expunge_all()
        return rows


def _stock(pushing: Pushing, index: int, quantity: int, shop: int | None = None) -> int:
    listing = pushing.listings(variations=False, index=shop)[index]
    user = pushing.inst.shops[pushing.main if shop is None else shop].user_id
    edit = OfferingEdit(listing.listing_id, sku=listing.inventory.products[0].sku, quantity=quantity)
    pushing.runtime.repos.inventory.edit_offerings(user, [edit])
    return listing.listing_id


def test_dead_letter_after_the_last_attempt_then_retry(pushing: Pushing) -> None:
    listing_id = _stock(pushing, 0, 9)
    pushing.inst.admin("faults", error_503_rate=1.0)

    first = pushing.push(push_max_attempts=2)
    assert (first.retry, first.failed) == (1, 0)
    second = pushing.push(push_max_attempts=2)
    assert (second.retry, second.failed) == (0, 1)
    (change,) = _changes(pushing)
    assert (change.status, change.attempts) == ("failed", 2)
    assert change.last_error is not None and "503" in change.last_error

    pushing.inst.admin("faults", error_503_rate=0.0)
    changes = ChangeRepository(pushing.runtime.db, pushing.runtime.cache)
    assert [c.id for c in changes.retry(None)] == [change.id]
    assert pushing.push().confirmed == 1
    sku = pushing.listings(variations=False)[0].inventory.products[0].sku
    assert pushing.etsy_offerings(listing_id)[sku]["quantity"] == 9


def test_a_refused_write_fails_at_once_and_core_takes_etsys_value(pushing: Pushing) -> None:
    listing = pushing.listings()[2]
    pushing.runtime.repos.listings.edit(pushing.user_id, listing.listing_id, {"title": "A % B % C"})  # Etsy: one %

    summary = pushing.push()

    assert (summary.failed, summary.retry) == (1, 0)
    (change,) = _changes(pushing)
    assert change.status == "failed" and change.attempts == 1
    assert change.last_error is not None and "title" in change.last_error
    on_etsy = pushing.etsy(f"/listings/{listing.listing_id}")["title"]
    assert change.etsy_value == {"title": on_etsy}
    with pushing.runtime.db.session() as session:
        core = session.scalar(select(Listing.title).where(Listing.etsy_listing_id == listing.listing_id))
    assert core == on_etsy  # the local edit is undone: core shows Etsy's title again


def test_a_revoked_token_holds_back_that_shop_only(pushing: Pushing) -> None:
    other = 1 - pushing.main
    held = _stock(pushing, 0, 4)
    went = _stock(pushing, 0, 6, shop=other)
    pushing.inst.admin("revoke", user_id=pushing.inst.shops[pushing.main].etsy_user_id)

    summary = pushing.push()

    assert (summary.confirmed, summary.waiting) == (1, 1)
    by_listing = {c.entity_id: c for c in _changes(pushing)}
    assert by_listing[went].status == "confirmed"
    assert by_listing[held].status == "pending" and by_listing[held].attempts == 0
    assert str(by_listing[held].last_error).startswith("needs_reauth")
    again = pushing.push()  # the shop still waits, without calling Etsy
    assert (again.waiting, again.api_calls) == (0, 0)


def test_two_runners_at_once_push_each_change_once(pushing: Pushing) -> None:
    listings = pushing.listings()[:12]
    for n, listing in enumerate(listings):
        for product in listing.inventory.products:
            edit = OfferingEdit(listing.listing_id, sku=product.sku, quantity=n + 1)
            pushing.runtime.repos.inventory.edit_offerings(pushing.user_id, [edit])
    results: list[PushSummary] = []
    runners = [PushRun(pushing.runtime, pushing.inst.access, seed=n) for n in range(2)]
    threads = [threading.Thread(target=lambda r=r: results.append(r.run())) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    total = sum(len(x.inventory.products) for x in listings)
    assert sum(r.confirmed for r in results) == total  # no change counted by both
    assert {c.status for c in _changes(pushing)} == {"confirmed"}
    writes = pushing.inst.stats()["inventory_writes"]
    assert {writes[str(x.listing_id)] for x in listings} == {1}


def test_a_refused_shipment_fails_at_once_and_the_order_is_unshipped_again(pushing: Pushing) -> None:
    receipt = pushing.open_receipts()[0]
    pushing.runtime.repos.orders.ship(pushing.user_id, receipt.receipt_id, carrier="Pigeon Post", tracking_code="P1")
    with pushing.runtime.db.session() as session:
        assert session.scalar(select(Order.is_shipped).where(Order.etsy_receipt_id == receipt.receipt_id)) is True

    summary = pushing.push()

    assert (summary.failed, summary.retry) == (1, 0)
    (change,) = _changes(pushing)
    assert change.last_error is not None and "carrier" in change.last_error.lower()
    assert pushing.inst.stats()["shipments_created"].get(str(receipt.receipt_id), 0) == 0
    on_etsy = pushing.etsy(f"/shops/{pushing.etsy_shop_id}/receipts/{receipt.receipt_id}")["is_shipped"]
    with pushing.runtime.db.session() as session:
        assert session.scalar(select(Order.is_shipped).where(Order.etsy_receipt_id == receipt.receipt_id)) is on_etsy
    assert on_etsy is False
