from __future__ import annotations

from decimal import Decimal

import pytest

from etsy_pipeline.storage.repositories import InvalidArgumentError, NotFoundError, Repositories
from etsy_pipeline_tests.factories import next_id, user_with_shop


def test_find_by_user_id_returns_only_the_users_shops(repos: Repositories) -> None:
    alice, a1 = user_with_shop(repos, "alice@example.com", "Alpha")
    a2 = repos.shops.create(alice.id, etsy_shop_id=next_id(), shop_name="Beta")
    bob, _ = user_with_shop(repos, "bob@example.com", "Bobs")
    assert [s.shop_name for s in repos.shops.find_by_user_id(alice.id)] == ["Alpha", "Beta"]
    assert {s.id for s in repos.shops.find_by_user_id(alice.id)} == {a1.id, a2.id}
    assert [s.shop_name for s in repos.shops.find_by_user_id(bob.id)] == ["Bobs"]


def test_get_hides_other_users_shops_like_missing_ones(repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    bob, _ = user_with_shop(repos, "bob@example.com")
    assert repos.shops.get(alice.id, shop.id).etsy_shop_id == shop.etsy_shop_id
    with pytest.raises(NotFoundError) as other:
        repos.shops.get(bob.id, shop.id)
    with pytest.raises(NotFoundError) as missing:
        repos.shops.get(bob.id, 987654)
    assert str(other.value).replace(str(shop.id), "N") == str(missing.value).replace("987654", "N")


def test_update_stats_stores_counters_and_refreshes_the_cache(repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    assert repos.shops.get(alice.id, shop.id).review_count == 0  # now cached
    repos.shops.update_stats(alice.id, shop.id, review_count=12, review_average=Decimal("4.75"), num_favorers=3)
    fresh = repos.shops.get(alice.id, shop.id)
    assert (fresh.review_count, fresh.review_average, fresh.num_favorers) == (12, Decimal("4.75"), 3)
    assert repos.shops.find_by_user_id(alice.id)[0].review_count == 12


def test_update_stats_refuses_unknown_and_negative_values(repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    with pytest.raises(InvalidArgumentError, match=r"unknown shop stat\(s\) \['visits'\]"):
        repos.shops.update_stats(alice.id, shop.id, visits=3)
    with pytest.raises(InvalidArgumentError, match="review_count must not be negative, got -1"):
        repos.shops.update_stats(alice.id, shop.id, review_count=-1)
    bob, _ = user_with_shop(repos, "bob@example.com")
    with pytest.raises(NotFoundError):
        repos.shops.update_stats(bob.id, shop.id, review_count=1)


def test_sync_status_lifecycle(repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    assert shop.sync_status == "never" and shop.last_synced_at is None
    running = repos.shops.set_sync_status(alice.id, shop.id, "running")
    assert running.sync_status == "running" and running.last_synced_at is None
    failed = repos.shops.set_sync_status(alice.id, shop.id, "failed", error="Etsy answered 503")
    assert (failed.sync_status, failed.last_sync_error) == ("failed", "Etsy answered 503")
    ok = repos.shops.set_sync_status(alice.id, shop.id, "ok")
    assert ok.last_synced_at is not None and ok.last_sync_error is None
    with pytest.raises(InvalidArgumentError, match="sync status must be one of"):
        repos.shops.set_sync_status(alice.id, shop.id, "done")


def test_get_by_etsy_id_is_scoped(repos: Repositories) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    bob, _ = user_with_shop(repos, "bob@example.com")
    found = repos.shops.get_by_etsy_id(alice.id, shop.etsy_shop_id)
    assert found is not None and found.id == shop.id
    assert repos.shops.get_by_etsy_id(bob.id, shop.etsy_shop_id) is None
