"""Installations for the analytics tests: the sync tests' `tiny`, and `prepared`, one synced installation shared
by every test of this package that only reads it.

`prepared` lives in a database of its own (the per-test truncation of the suite's database cannot reach it) and
a Redis namespace of its own. Before its first sync it is given what the rules are about: on one day of each
shop an order is canceled (its buyer has other orders), one order is refunded in part and one in full; a repeat
buyer elsewhere gets a refund; a one-order buyer's only order is canceled. Between its two syncs a few
listings gain views and favorites and some stock is set on Etsy exactly at, just above and below the low-stock
threshold. Snapshots are dated by the database's clock, so each sync's snapshots are moved by hand to the day
before and the day itself: the views columns then have a known growth on a day that also holds orders.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from etsy_pipeline.emulator.activity import cancel
from etsy_pipeline.emulator.models import Receipt
from etsy_pipeline.emulator.state import Config, EmulatorState
from etsy_pipeline.runtime import Runtime
from etsy_pipeline.settings import load_settings
from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.transform.analytics import rebuild_all
from etsy_pipeline_tests.conftest import REDIS_URL
from etsy_pipeline_tests.support.databases import create_database, drop_database
from etsy_pipeline_tests.sync.conftest import Installation, install, tiny
from etsy_pipeline_tests.transform.expected import Counters, Snapshots, day_of, receipts_of

__all__ = ["Prepared", "prepared", "tiny"]

DEFAULT_THRESHOLD = 5  # LOW_STOCK_THRESHOLD of the rebuilds below
SHOP_THRESHOLD = 3  # the second shop's own low_stock_threshold


@dataclass
class Prepared:
    inst: Installation
    day: date  # the day with canceled and refunded orders, and the views gained
    snapshots: Snapshots
    thresholds: dict[int, int]  # Etsy shop id -> threshold in force
    canceled_on_day: dict[int, Receipt] = field(default_factory=dict)  # Etsy shop id -> the order canceled on `day`
    stock: dict[int, dict[int, tuple[int, str]]] = field(default_factory=dict)  # shop -> qty -> (listing, sku)

    @property
    def state(self) -> EmulatorState:
        return self.inst.state

    def rebuild(self, days: list[date], *, tz: str = "UTC") -> None:
        with self.inst.runtime.db.engine.begin() as conn:
            for day in days:
                rebuild_all(conn, day, tz=tz, default_threshold=DEFAULT_THRESHOLD)

    def around(self, before: int, after: int) -> list[date]:
        return [self.day + timedelta(days=n) for n in range(-before, after + 1)]

    def core(self, sql: str, **params: Any) -> Any:
        return self.inst.core(sql, **params)

    def listing_ids(self) -> dict[int, int]:
        """core.listings.id -> Etsy listing id."""
        return dict(self.core("SELECT id, etsy_listing_id FROM core.listings"))


def _busy_day(state: EmulatorState) -> date:
    """The day on which the quietest shop still has the most orders."""
    per_shop = [Counter(day_of(r.created) for r in receipts_of(state, s)) for s in state.world.shops]
    common = set.intersection(*(set(c) for c in per_shop))
    return max(sorted(common), key=lambda d: min(c[d] for c in per_shop))


def _arrange_orders(inst: Installation, day: date) -> dict[int, Receipt]:
    """Cancel and refund orders as the module docstring says; returns the order canceled on `day` per shop."""
    state = inst.state
    canceled: dict[int, Receipt] = {}
    for shop in inst.shops:
        mine = sorted(receipts_of(state, shop.etsy_shop_id), key=lambda r: r.created)
        counts = Counter(r.buyer_user_id for r in mine if r.status != "canceled")
        untouched = [r for r in mine if r.status != "canceled" and not r.refunds]
        on_day = [r for r in untouched if day_of(r.created) == day]
        target = next((r for r in on_day if counts[r.buyer_user_id] > 1), on_day[0])
        partial, full = [r for r in on_day if r is not target][:2]
        used = {target.receipt_id, partial.receipt_id, full.receipt_id}
        repeat = next(
            r for r in untouched if counts[r.buyer_user_id] > 1 and r.receipt_id not in used
            and r.buyer_user_id != target.buyer_user_id
        )  # fmt: skip
        lone = next(r for r in untouched if counts[r.buyer_user_id] == 1 and r.receipt_id not in used)
        with state.lock:
            for receipt in (target, lone):
                cancel(state, receipt, state.clock.now(), stamp=False)
        for receipt, amount in ((partial, partial.grandtotal // 3), (full, None), (repeat, repeat.grandtotal // 4)):
            body = {"receipt_id": receipt.receipt_id} | ({"amount": amount} if amount else {})
            assert "error" not in inst.admin("refund", **body)
        canceled[shop.etsy_shop_id] = target
    return canceled


def _counters(state: EmulatorState) -> dict[int, Counters]:
    with state.lock:
        return {x.listing_id: Counters(x.views, x.num_favorers, x.quantity) for x in state.world.listings.values()}


def _arrange_listings(inst: Installation, thresholds: dict[int, int]) -> dict[int, dict[int, tuple[int, str]]]:
    """Views and favorites gained by a few listings; stock at, above and below each shop's threshold, set as a
    seller would on Etsy; one low offering disabled (it must raise no alert)."""
    state = inst.state
    stock: dict[int, dict[int, tuple[int, str]]] = {}
    for shop in inst.shops:
        listings = sorted(
            (x for x in state.world.listings.values() if x.shop_id == shop.etsy_shop_id and x.state == "active"),
            key=lambda x: x.listing_id,
        )
        with state.lock:
            for n, listing in enumerate(listings[:6]):
                listing.views += 7 * (n + 1)
                listing.num_favorers += n % 2
            state.changed()
        wide = next(x for x in listings if len(x.inventory.products) >= 4)
        limit = thresholds[shop.etsy_shop_id]
        quantities = (limit, limit + 1, 0, 1)
        stock[shop.etsy_shop_id] = {}
        for product, quantity in zip(wide.inventory.products, quantities, strict=False):
            inst.admin("seller/inventory", listing_id=wide.listing_id, sku=product.sku, quantity=quantity)
            stock[shop.etsy_shop_id][quantity] = (wide.listing_id, product.sku)
        with state.lock:
            wide.inventory.products[3].offering.is_enabled = False  # quantity 1, but not for sale
            state.changed()
    return stock


@contextmanager
def own_cache(inst: Installation) -> Iterator[None]:
    """Point the installation's runtime at a Redis namespace of its own, so no other test's keys are met."""
    old = inst.runtime
    cache = Cache(REDIS_URL, namespace=f"etsy-pipeline-test:{uuid.uuid4().hex}")
    inst.runtime = Runtime(old.settings, old.db, cache, Repositories.build(old.db, cache, old.settings))
    try:
        yield
    finally:
        cache.close()
        inst.runtime = old


@pytest.fixture(scope="package")
def prepared(encryption_key: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prepared]:
    name = f"etsy_pipeline_analytics_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = create_database(name)
    migrate.upgrade(url)
    settings = load_settings(
        database_url=url, redis_url=REDIS_URL, token_encryption_key=encryption_key,
        low_stock_threshold=DEFAULT_THRESHOLD, data_dir=tmp_path_factory.mktemp("prepared") / "data", _env_file=None,
    )  # fmt: skip
    db = Database(url)
    try:
        config = Config(seed=42, scale="tiny", qps=0, qpd=0)
        with contextmanager(install)(settings, db, config) as inst, own_cache(inst):
            yield _prepare(inst)
    finally:
        db.close()
        drop_database(name)


def _prepare(inst: Installation) -> Prepared:
    day = _busy_day(inst.state)
    canceled = _arrange_orders(inst, day)
    thresholds = {s.etsy_shop_id: DEFAULT_THRESHOLD for s in inst.shops}
    assert {r.status for r in inst.sync_all()} == {"succeeded"}
    snapshots: Snapshots = {day - timedelta(days=1): _counters(inst.state)}
    with inst.runtime.db.engine.begin() as conn:
        conn.execute(text("UPDATE core.listing_snapshots SET snapshot_date = :d"), {"d": day - timedelta(days=1)})
    second = inst.shops[1]
    inst.runtime.repos.shops.set_low_stock_threshold(second.user_id, second.shop_id, SHOP_THRESHOLD)
    thresholds[second.etsy_shop_id] = SHOP_THRESHOLD
    stock = _arrange_listings(inst, thresholds)
    assert {r.status for r in inst.sync_all()} == {"succeeded"}
    snapshots[day] = _counters(inst.state)
    with inst.runtime.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE core.listing_snapshots SET snapshot_date = :d WHERE snapshot_date <> :before"),
            {"d": day, "before": day - timedelta(days=1)},
        )
    # Every listing Etsy lists (in any state) was snapshotted at both syncs: what `expected.gains` assumes.
    assert inst.core("SELECT count(*) FROM core.listing_snapshots")[0][0] == 2 * len(inst.state.world.listings)
    return Prepared(inst, day, snapshots, thresholds, canceled, stock)
