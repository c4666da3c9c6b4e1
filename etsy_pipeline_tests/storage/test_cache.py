from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest

from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import CacheTTLs, Repositories, ShopRepository
from etsy_pipeline_tests.conftest import REDIS_URL
from etsy_pipeline_tests.factories import add_listings, user_with_shop
from etsy_pipeline_tests.support.tcp_proxy import TcpProxy


class CountingLoader:
    def __init__(self, value: object) -> None:
        self.value = value
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        return self.value


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    host, port = REDIS_URL.split("//")[1].split("/")[0].split(":")
    proxy = TcpProxy(host, int(port)).start()
    yield proxy
    proxy.stop()


def test_miss_then_hit(cache: Cache) -> None:
    loader = CountingLoader({"total": Decimal("12.30")})
    for _ in range(3):
        assert cache.get_or_load(user_id=1, shop_id=2, name="x", ttl=60, loader=loader) == {"total": Decimal("12.30")}
    assert loader.calls == 1
    assert (cache.hits, cache.misses) == (2, 1)


def test_a_value_written_before_a_view_gained_a_field_is_read_again(cache: Cache) -> None:
    """An upgrade that adds a field to a cached view must not break reads until the old entries expire."""
    from etsy_pipeline.storage import codec
    from etsy_pipeline.storage.repositories import views

    assert codec._REGISTRY["DailyMetricsView"] is views.DailyMetricsView  # the stale entry names a known view
    key = cache._key(7, 3, "daily")
    assert key is not None
    old = b'{"$dc":"DailyMetricsView","f":{"shop_id":3}}'  # as an older release stored it: fewer fields
    assert cache._call(lambda c: c.set(key, old)) is not None
    fresh = CountingLoader(["reloaded"])
    assert cache.get_or_load(user_id=7, shop_id=3, name="daily", ttl=60, loader=fresh) == ["reloaded"]
    assert fresh.calls == 1
    assert cache.get_or_load(user_id=7, shop_id=3, name="daily", ttl=60, loader=fresh) == ["reloaded"]
    assert fresh.calls == 1  # stored again, in today's shape


def test_values_expire_after_their_ttl(cache: Cache) -> None:
    loader = CountingLoader(1)
    cache.get_or_load(user_id=1, shop_id=None, name="short", ttl=1, loader=loader)
    cache.get_or_load(user_id=1, shop_id=None, name="short", ttl=1, loader=loader)
    assert loader.calls == 1
    time.sleep(1.2)
    cache.get_or_load(user_id=1, shop_id=None, name="short", ttl=1, loader=loader)
    assert loader.calls == 2


def test_keys_are_namespaced_per_user(cache: Cache) -> None:
    a = cache.get_or_load(user_id=1, shop_id=5, name="shop", ttl=60, loader=lambda: "alice's")
    b = cache.get_or_load(user_id=2, shop_id=5, name="shop", ttl=60, loader=lambda: "bob's")
    assert (a, b) == ("alice's", "bob's")


def test_invalidating_a_shop_forgets_only_that_shop(cache: Cache) -> None:
    one, two, lists = CountingLoader("s1"), CountingLoader("s2"), CountingLoader(["s1", "s2"])
    for _ in range(2):
        cache.get_or_load(user_id=1, shop_id=1, name="shop", ttl=60, loader=one)
        cache.get_or_load(user_id=1, shop_id=2, name="shop", ttl=60, loader=two)
        cache.get_or_load(user_id=1, shop_id=None, name="shops", ttl=60, loader=lists)
    cache.invalidate_shop(1, user_id=1)
    cache.get_or_load(user_id=1, shop_id=1, name="shop", ttl=60, loader=one)
    cache.get_or_load(user_id=1, shop_id=2, name="shop", ttl=60, loader=two)
    cache.get_or_load(user_id=1, shop_id=None, name="shops", ttl=60, loader=lists)
    assert (one.calls, two.calls, lists.calls) == (2, 1, 2)


def test_repository_reads_are_cached_and_writes_invalidate(db: Database, repos: Repositories, cache: Cache) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    add_listings(db, shop.id, [{"title": "Mug"}])
    repos.listings.by_shop(alice.id, shop.id)
    misses = cache.misses
    repos.listings.by_shop(alice.id, shop.id)
    assert cache.misses == misses  # served from Redis
    add_listings(db, shop.id, [{"title": "Bowl"}])  # a sync wrote behind the cache...
    assert len(repos.listings.by_shop(alice.id, shop.id).items) == 1  # ...the cached page is still served
    cache.invalidate_shop(shop.id)  # what a sync does at its end (sync/test_cache_after_sync.py proves it)
    assert len(repos.listings.by_shop(alice.id, shop.id).items) == 2


def test_unset_redis_works_uncached_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="etsy_pipeline.storage.cache"):
        cache = Cache(None)
        loader = CountingLoader(3)
        for _ in range(3):
            assert cache.get_or_load(user_id=1, shop_id=None, name="n", ttl=60, loader=loader) == 3
        cache.invalidate_shop(1, 1)
    assert loader.calls == 3
    assert len(caplog.records) == 1 and "REDIS_URL is not set" in caplog.records[0].message


def test_closed_port_works_uncached_with_one_warning(
    db: Database, repos: Repositories, caplog: pytest.LogCaptureFixture
) -> None:
    alice, shop = user_with_shop(repos, "alice@example.com")
    down = Cache(f"redis://127.0.0.1:{_free_port()}/0", retry_seconds=60)
    shops = ShopRepository(db, down, CacheTTLs())
    with caplog.at_level(logging.WARNING, logger="etsy_pipeline.storage.cache"):
        for _ in range(5):
            assert shops.get(alice.id, shop.id).shop_name == "Shop"
        shops.update_stats(alice.id, shop.id, review_count=2)
        assert shops.get(alice.id, shop.id).review_count == 2
    warnings = [r for r in caplog.records if "unreachable" in r.message]
    assert len(warnings) == 1
    assert not down.available


def test_caching_resumes_when_redis_returns_and_stale_values_are_dropped(
    proxy: TcpProxy, caplog: pytest.LogCaptureFixture
) -> None:
    cache = Cache(f"redis://127.0.0.1:{proxy.port}/0", retry_seconds=0.2, namespace=f"test:{uuid.uuid4().hex}")
    loader = CountingLoader("v1")
    cache.get_or_load(user_id=1, shop_id=1, name="k", ttl=60, loader=loader)
    proxy.stop()
    loader.value = "v2"  # changed while Redis was away: nobody could invalidate
    with caplog.at_level(logging.WARNING, logger="etsy_pipeline.storage.cache"):
        assert cache.get_or_load(user_id=1, shop_id=1, name="k", ttl=60, loader=loader) == "v2"
        assert cache.get_or_load(user_id=1, shop_id=1, name="k", ttl=60, loader=loader) == "v2"
        proxy.start()
        time.sleep(0.3)
        assert cache.get_or_load(user_id=1, shop_id=1, name="k", ttl=60, loader=loader) == "v2"  # not stale v1
        calls = loader.calls
        assert cache.get_or_load(user_id=1, shop_id=1, name="k", ttl=60, loader=loader) == "v2"
    assert loader.calls == calls  # cached again
    assert cache.available
    messages = [r.message for r in caplog.records]
    assert sum("unreachable" in m for m in messages) == 1
    assert sum("caching resumed" in m for m in messages) == 1
    cache.close()
