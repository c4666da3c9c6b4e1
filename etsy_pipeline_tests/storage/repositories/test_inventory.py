from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Inventory, Listing, PendingChange
from etsy_pipeline.storage.repositories import InvalidArgumentError, NotFoundError, Repositories
from etsy_pipeline_tests.factories import add_inventory, add_listings, user_with_shop


def test_by_listing_lists_offerings_of_the_users_listing(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    (listing,) = add_listings(db, shop.id, [{"title": "Mug"}])
    add_inventory(db, shop.id, listing, [4, 9])
    offerings = repos.inventory.by_listing(alice.id, listing)
    assert [(o.variation_key, o.quantity) for o in offerings] == [("513:0", 4), ("513:1", 9)]
    bob, _ = user_with_shop(repos, "bob@example.com")
    with pytest.raises(NotFoundError):
        repos.inventory.by_listing(bob.id, listing)


def test_set_quantity_writes_the_row_and_the_outbox_in_one_transaction(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    (listing,) = add_listings(db, shop.id, [{"title": "Mug", "etsy_updated_timestamp": 1_766_000_000}])
    first, second = add_inventory(db, shop.id, listing, [4, 9])
    assert repos.inventory.by_listing(alice.id, listing)[0].quantity == 4  # cached now
    change = repos.inventory.set_quantity(alice.id, first, 7)
    assert (change.status, change.change_type, change.priority) == ("pending", "inventory_quantity", 0)
    assert repos.inventory.by_listing(alice.id, listing)[0].quantity == 7  # cache invalidated
    with db.session() as session:
        stored = session.get(PendingChange, change.id)
        assert stored is not None
        assert stored.payload["quantity"] == 7 and stored.payload["previous_quantity"] == 4
        assert stored.base_updated_timestamp == 1_766_000_000
        assert stored.created_by_user_id == alice.id
        assert session.get(Listing, listing).quantity == 16  # type: ignore[union-attr]
    assert second


def test_set_quantity_rolls_back_the_row_when_the_outbox_write_fails(
    db: Database, repos: Repositories, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    (listing,) = add_listings(db, shop.id, [{"title": "Mug"}])
    (item,) = add_inventory(db, shop.id, listing, [4])
    fixed = uuid.UUID(int=1)
    monkeypatch.setattr(uuid, "uuid4", lambda: fixed)  # the second change collides on idempotency_key
    repos.inventory.set_quantity(alice.id, item, 3)
    with pytest.raises(IntegrityError):
        repos.inventory.set_quantity(alice.id, item, 1)
    with db.session() as session:
        assert session.scalar(select(Inventory.quantity).where(Inventory.id == item)) == 3
        assert (
            session.scalar(select(PendingChange.id).where(PendingChange.payload["quantity"].as_integer() == 1)) is None
        )


@pytest.mark.parametrize("bad", [-1, 1000, 2.5, True])
def test_set_quantity_refuses_bad_values_and_writes_nothing(db: Database, repos: Repositories, bad: object) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    (listing,) = add_listings(db, shop.id, [{"title": "Mug"}])
    (item,) = add_inventory(db, shop.id, listing, [4])
    with pytest.raises(InvalidArgumentError, match=f"quantity must be an integer from 0 to 999, got {bad!r}"):
        repos.inventory.set_quantity(alice.id, item, bad)  # type: ignore[arg-type]
    with db.session() as session:
        assert session.scalar(select(Inventory.quantity).where(Inventory.id == item)) == 4
        assert session.scalar(select(PendingChange.id)) is None


def test_set_quantity_on_someone_elses_offering_is_not_found(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "alice@example.com")
    bob, _ = user_with_shop(repos, "bob@example.com")
    (listing,) = add_listings(db, shop.id, [{"title": "Mug"}])
    (item,) = add_inventory(db, shop.id, listing, [4])
    with pytest.raises(NotFoundError):
        repos.inventory.set_quantity(bob.id, item, 0)
    with db.session() as session:
        assert session.scalar(select(Inventory.quantity).where(Inventory.id == item)) == 4
