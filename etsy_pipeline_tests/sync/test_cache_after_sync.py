"""A sync leaves nothing stale in the Redis cache: what the repositories served before it is replaced by what the
sync wrote, with no hand-made invalidation in between."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from etsy_pipeline.emulator.activity import cancel
from etsy_pipeline.runtime import Runtime
from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.sync.connect import Connected
from etsy_pipeline_tests.conftest import REDIS_URL
from etsy_pipeline_tests.sync.conftest import Installation
from etsy_pipeline_tests.transform.expected import buyers, receipts_of

HOUR = 3600


@contextmanager
def cached_for_an_hour(inst: Installation) -> Iterator[Cache]:
    """The runtime on a Redis namespace of its own (no other test's keys), every TTL an hour (a slow run cannot
    pass a stale read off as an expired one). The sync uses this runtime, so its invalidation lands here."""
    old = inst.runtime
    ttls = {f"cache_ttl_{k}_seconds": HOUR for k in ("shop", "listing", "orders", "analytics")}
    settings = old.settings.model_copy(update=ttls)
    cache = Cache(REDIS_URL, namespace=f"etsy-pipeline-test:{uuid.uuid4().hex}")
    inst.runtime = Runtime(settings, old.db, cache, Repositories.build(old.db, cache, settings))
    try:
        yield cache
    finally:
        cache.close()
        inst.runtime = old


def _read(repos: Repositories, shop: Connected) -> dict[str, Any]:
    """What an application shows of a shop, read through the repositories (each read cached)."""
    user, ident = shop.user_id, shop.shop_id
    listings = repos.listings.by_shop(user, ident, limit=1000).items
    orders = repos.orders.by_shop(user, ident, limit=1000).items
    return {
        "sold": repos.shops.get(user, ident).transaction_sold_count,
        "listings": {x.etsy_listing_id: (x.title, x.quantity) for x in listings},
        "orders": {o.etsy_receipt_id: (o.status, o.refunded_amount) for o in orders},
        "customers": {
            c.etsy_buyer_user_id: (c.order_count, c.total_spent)
            for c in repos.customers.top_customers(user, ident, limit=1000)
        },
    }


def _etsy(inst: Installation, shop: Connected) -> dict[str, Any]:
    """The same, from the emulator's own objects."""
    state, etsy = inst.state, shop.etsy_shop_id
    divisor = Decimal(state.world.shops[etsy].currency.divisor)
    return {
        "sold": state.sold_count(etsy),
        "listings": {x.listing_id: (x.title, x.quantity) for x in state.world.listings.values() if x.shop_id == etsy},
        "orders": {r.receipt_id: (r.status, Decimal(r.refunded) / divisor) for r in receipts_of(state, etsy)},
        "customers": {b: (c.order_count, c.total_spent) for b, c in buyers(state, etsy).items()},
    }


def test_reads_through_the_repositories_after_a_sync_serve_what_the_sync_wrote(tiny: Installation) -> None:
    with cached_for_an_hour(tiny) as cache:
        assert {r.status for r in tiny.sync_all()} == {"succeeded"}
        shop = tiny.shops[0]
        before = _read(tiny.runtime.repos, shop)
        hits = cache.hits
        assert _read(tiny.runtime.repos, shop) == before
        assert cache.hits == hits + len(before)  # every read is now served from Redis
        assert before == _etsy(tiny, shop)

        # Etsy moves on: a one-order buyer's order is canceled (unstamped, the seller's ledger shows it), new
        # orders arrive, the seller edits a listing and its stock, a refund is made.
        mine = receipts_of(tiny.state, shop.etsy_shop_id)
        orders_of = Counter(r.buyer_user_id for r in mine if r.status != "canceled")
        lone = max(
            (r for r in mine if r.is_paid and not r.refunds and orders_of[r.buyer_user_id] == 1),
            key=lambda r: r.created,
        )
        with tiny.state.lock:
            cancel(tiny.state, lone, tiny.state.clock.now(), stamp=False)
        assert tiny.admin("advance", hours=30)["new_receipts"] > 0
        listing = min(
            (x for x in tiny.state.world.listings.values() if x.shop_id == shop.etsy_shop_id and x.state == "active"),
            key=lambda x: x.listing_id,
        )
        tiny.admin("seller/listing", listing_id=listing.listing_id, title="Renamed on Etsy")
        product = listing.inventory.products[0]
        quantity = product.offering.quantity + 7
        tiny.admin("seller/inventory", listing_id=listing.listing_id, sku=product.sku, quantity=quantity)
        refunded = tiny.newest_refundable(shop.etsy_shop_id)
        tiny.admin("refund", receipt_id=refunded.receipt_id, amount=refunded.grandtotal // 2)

        assert {r.status for r in tiny.sync_all()} == {"succeeded"}
        after = _read(tiny.runtime.repos, shop)
        etsy = _etsy(tiny, shop)
        for part in before:
            assert after[part] != before[part], part  # the data did change
            assert after[part] == etsy[part], part  # and the repositories serve the change
        assert lone.buyer_user_id in before["customers"] and lone.buyer_user_id not in after["customers"]
