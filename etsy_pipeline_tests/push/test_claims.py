"""Claims: a live lease keeps an object to its runner; an expired lease passes it on, and the runner that lost it
can no longer record anything."""

from __future__ import annotations

from sqlalchemy import func, select, update

from etsy_pipeline.push.claims import Outcome, claim, database_now, finish
from etsy_pipeline.storage.models import PendingChange
from etsy_pipeline.storage.repositories.offering_edits import OfferingEdit
from etsy_pipeline_tests.push.conftest import Pushing


def _edit(pushing: Pushing, quantity: int) -> None:
    listing = pushing.listings(variations=False)[0]
    edit = OfferingEdit(listing.listing_id, sku=listing.inventory.products[0].sku, quantity=quantity)
    pushing.runtime.repos.inventory.edit_offerings(pushing.user_id, [edit])


def test_an_object_with_a_live_lease_is_not_claimed_by_another_runner(pushing: Pushing) -> None:
    db = pushing.runtime.db
    _edit(pushing, 1)
    assert len(claim(db, "runner-a", 300, database_now(db))) == 1
    _edit(pushing, 2)  # a new change of the same listing while runner A works on it
    assert claim(db, "runner-b", 300, database_now(db)) == []


def test_an_expired_lease_passes_the_change_on_and_the_old_runner_records_nothing(pushing: Pushing) -> None:
    db = pushing.runtime.db
    _edit(pushing, 1)
    (first,) = claim(db, "runner-a", 300, database_now(db))
    with db.session() as session:  # runner A stalls past its lease
        session.execute(update(PendingChange).values(claimed_until=func.now() - func.make_interval(0, 0, 0, 0, 0, 1)))
    (second,) = claim(db, "runner-b", 300, database_now(db))
    assert (second.id, second.attempts) == (first.id, 2)

    assert finish(db, "runner-a", {first.id: Outcome("confirmed")}) == 0
    with db.session() as session:
        assert session.execute(select(PendingChange.status, PendingChange.claimed_by)).one() == (
            "in_flight",
            "runner-b",
        )
    assert finish(db, "runner-b", {second.id: Outcome("confirmed")}) == 1
    with db.session() as session:
        assert session.scalar(select(PendingChange.status)) == "confirmed"
