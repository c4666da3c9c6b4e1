from __future__ import annotations

import pytest

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import InvalidArgumentError, NotFoundError, Repositories
from etsy_pipeline_tests.factories import add_inventory, add_listings, user_with_shop


def test_keyset_pages_cover_every_listing_once(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    ids = add_listings(
        db, shop.id, [{"title": f"Item {i}", "state": "active" if i % 3 else "draft"} for i in range(250)]
    )
    seen: list[int] = []
    after = None
    pages = 0
    while True:
        page = repos.listings.by_shop(alice.id, shop.id, after=after, limit=100)
        seen += [item.id for item in page.items]
        pages += 1
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert pages == 3
    assert seen == sorted(ids)
    drafts = repos.listings.by_shop(alice.id, shop.id, state="draft", limit=1000)
    assert len(drafts.items) == len([i for i in range(250) if i % 3 == 0])
    assert {item.state for item in drafts.items} == {"draft"}
    assert drafts.next_cursor is None


def test_by_shop_is_scoped_and_validates_arguments(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    bob, _ = user_with_shop(repos, "bob@example.com")
    add_listings(db, shop.id, [{"title": "Secret"}])
    with pytest.raises(NotFoundError):
        repos.listings.by_shop(bob.id, shop.id)
    with pytest.raises(InvalidArgumentError, match="state must be one of"):
        repos.listings.by_shop(alice.id, shop.id, state="sold")
    with pytest.raises(InvalidArgumentError, match="limit must be between 1 and 1000, got 0"):
        repos.listings.by_shop(alice.id, shop.id, limit=0)
    with pytest.raises(InvalidArgumentError, match=r"after must be a cursor .* got 'abc'"):
        repos.listings.by_shop(alice.id, shop.id, after="abc")


def test_search_ranks_title_matches_first_and_stays_in_the_users_shops(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    bob, bob_shop = user_with_shop(repos, "bob@example.com")
    in_description, in_title, in_tags, _ = add_listings(
        db,
        shop.id,
        [
            {"title": "Kitchen towel", "description": "Goes well with a ceramic mug"},
            {"title": "Ceramic mug with handle", "description": "Stoneware"},
            {"title": "Cup", "tags": ["ceramic", "mug"]},
            {"title": "Candle", "description": "Beeswax"},
        ],
    )
    add_listings(db, bob_shop.id, [{"title": "Ceramic mug (Bob)"}])
    hits = repos.listings.search(alice.id, "ceramic mugs")
    assert [h.listing.id for h in hits] == [in_title, in_tags, in_description]
    assert hits[0].rank > hits[1].rank > hits[2].rank
    assert [h.listing.title for h in repos.listings.search(bob.id, "ceramic mug")] == ["Ceramic mug (Bob)"]
    assert repos.listings.search(alice.id, "mug -handle", shop_id=shop.id)[0].listing.id == in_tags
    with pytest.raises(InvalidArgumentError, match="query must not be empty"):
        repos.listings.search(alice.id, "  ")
    with pytest.raises(InvalidArgumentError, match="must not contain a NUL byte"):
        repos.listings.search(alice.id, "mug\x00")


def test_low_stock_uses_argument_then_shop_setting_then_default(db: Database, repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    active, draft = add_listings(db, shop.id, [{"title": "Active"}, {"title": "Draft", "state": "draft"}])
    add_inventory(db, shop.id, active, [0, 3, 5, 6, 20])
    add_inventory(db, shop.id, draft, [0])
    assert sorted(i.quantity for i in repos.listings.low_stock(alice.id, shop.id)) == [0, 3, 5]  # default 5
    repos.shops.set_low_stock_threshold(alice.id, shop.id, 3)
    assert sorted(i.quantity for i in repos.listings.low_stock(alice.id, shop.id)) == [0, 3]
    assert sorted(i.quantity for i in repos.listings.low_stock(alice.id, shop.id, threshold=6)) == [0, 3, 5, 6]
    item = repos.listings.low_stock(alice.id, shop.id)[0]
    assert (item.listing_title, item.quantity) == ("Active", 0)
    bob, _ = user_with_shop(repos, "bob@example.com")
    with pytest.raises(NotFoundError):
        repos.listings.low_stock(bob.id, shop.id)
