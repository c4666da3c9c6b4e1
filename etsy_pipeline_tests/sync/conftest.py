"""A connected installation against the emulator: sellers connected through OAuth, tokens in PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from etsy_pipeline.demo import emulator_settings
from etsy_pipeline.emulator.models import Receipt
from etsy_pipeline.emulator.server import BackgroundEmulator
from etsy_pipeline.emulator.state import Config, EmulatorState
from etsy_pipeline.etsy.client import RetryPolicy
from etsy_pipeline.runtime import Runtime, open_runtime
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.sync.clients import EtsyAccess, build_access
from etsy_pipeline.sync.connect import Connected, authorize, record_connection
from etsy_pipeline.sync.runner import SyncResult, or_raise, sync_shop, sync_shops
from etsy_pipeline_tests.conftest import REDIS_URL


@dataclass
class Installation:
    emulator: BackgroundEmulator
    runtime: Runtime
    access: EtsyAccess
    shops: list[Connected]

    @property
    def state(self) -> EmulatorState:
        return self.emulator.state

    def admin(self, path: str, **body: Any) -> Any:
        return httpx.post(f"{self.emulator.url}/_emulator/{path}", json=body).json()

    def stats(self) -> Any:
        return httpx.get(f"{self.emulator.url}/_emulator/stats").json()

    def sync(self, index: int = 0, *, full: bool = False) -> SyncResult:
        return sync_shop(self.runtime, self.access, self.shops[index].shop_id, full=full)

    def sync_all(self, **kwargs: Any) -> list[SyncResult]:
        """Every shop as one batch, as the CLI and a scheduled run pull them (`sync_shops`)."""
        return list(or_raise(sync_shops(self.runtime, self.access, [s.shop_id for s in self.shops], **kwargs)))

    def newest_refundable(self, etsy_shop_id: int) -> Receipt:
        """The shop's most recently changed receipt that shipped and has no refund yet (a refund target)."""
        receipts = [r for r in self.state.world.receipts.values() if r.shop_id == etsy_shop_id]
        return max((r for r in receipts if r.is_shipped and not r.refunds), key=lambda r: r.updated)

    def core(self, sql: str, **params: Any) -> Any:
        with self.runtime.db.engine.connect() as conn:
            return conn.execute(text(sql), params).all()

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment of an `etsy-pipeline` process pointed at this installation."""
        env = dict(os.environ)
        s = self.runtime.settings
        env.update({
            "DATABASE_URL": self.runtime.db.url, "REDIS_URL": s.redis_url or "", "ETSY_BASE_URL": s.etsy_base_url,
            "ETSY_API_KEYSTRING": s.etsy_api_keystring.get_secret_value() if s.etsy_api_keystring else "",
            "ETSY_SHARED_SECRET": s.etsy_shared_secret.get_secret_value() if s.etsy_shared_secret else "",
            "TOKEN_ENCRYPTION_KEY": s.token_encryption_key.get_secret_value() if s.token_encryption_key else "",
            "DATA_DIR": str(s.data_dir), "ETSY_QPS": "0", "ETSY_QPD": "0", **extra,
        })  # fmt: skip
        return env

    def sync_process(self, etsy_shop_id: int, *, prelude: str = "", **env: str) -> subprocess.Popen[bytes]:
        """`etsy-pipeline sync --shop ID` in a process of its own; `prelude` is Python run before the command."""
        code = f"import sys\n{prelude}\nfrom etsy_pipeline.cli import main\nsys.exit(main(sys.argv[1:]))"
        return subprocess.Popen(
            [sys.executable, "-c", code, "sync", "--shop", str(etsy_shop_id)], env=self.child_env(**env),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip


def expected(state: EmulatorState, etsy_shop_id: int) -> dict[str, Any]:
    """What core must hold for a shop, computed independently from the emulator's own objects."""
    receipts = [r for r in state.world.receipts.values() if r.shop_id == etsy_shop_id]
    divisor = state.world.shops[etsy_shop_id].currency.divisor
    listings = [x for x in state.world.listings.values() if x.shop_id == etsy_shop_id]
    return {
        "orders": len(receipts),
        "grandtotal": sum(Decimal(r.grandtotal) for r in receipts) / divisor,
        "refunded": sum(Decimal(r.refunded) for r in receipts) / divisor,
        "order_items": sum(len(r.transactions) for r in receipts),
        "units": sum(t.quantity for r in receipts for t in r.transactions),
        "listings": len(listings),
        "inventory": sum(len(x.inventory.products) for x in listings),
        "stock": sum(p.offering.quantity for x in listings for p in x.inventory.products),
        "images": sum(len(x.images) for x in listings),
        "customers": len({r.buyer_user_id for r in receipts if r.status != "canceled"}),
        "shipped": sum(1 for r in receipts if r.is_shipped),
    }


def actual(inst: Installation, shop_id: int) -> dict[str, Any]:
    row = inst.core(
        """
        SELECT (SELECT count(*) FROM core.orders WHERE shop_id = :s),
               (SELECT coalesce(sum(grandtotal), 0) FROM core.orders WHERE shop_id = :s),
               (SELECT coalesce(sum(refunded_amount), 0) FROM core.orders WHERE shop_id = :s),
               (SELECT count(*) FROM core.order_items i JOIN core.orders o ON o.id = i.order_id WHERE o.shop_id = :s),
               (SELECT coalesce(sum(i.quantity), 0) FROM core.order_items i JOIN core.orders o ON o.id = i.order_id
                WHERE o.shop_id = :s),
               (SELECT count(*) FROM core.listings WHERE shop_id = :s AND state <> 'removed'),
               (SELECT count(*) FROM core.inventory WHERE shop_id = :s),
               (SELECT coalesce(sum(quantity), 0) FROM core.inventory WHERE shop_id = :s),
               (SELECT count(*) FROM core.listing_images i JOIN core.listings l ON l.id = i.listing_id
                WHERE l.shop_id = :s),
               (SELECT count(*) FROM core.customers WHERE shop_id = :s),
               (SELECT count(*) FROM core.orders WHERE shop_id = :s AND is_shipped)
        """,
        s=shop_id,
    )[0]
    keys = ["orders", "grandtotal", "refunded", "order_items", "units", "listings", "inventory", "stock", "images",
            "customers", "shipped"]  # fmt: skip
    return dict(zip(keys, row, strict=True))


def assert_matches_emulator(inst: Installation) -> None:
    for shop in inst.shops:
        assert actual(inst, shop.shop_id) == expected(inst.state, shop.etsy_shop_id), shop.etsy_shop_id


def _drop_raw(db: Database) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS etsy_raw CASCADE"))


def install(settings: Settings, db: Database, config: Config) -> Iterator[Installation]:
    _drop_raw(db)
    with BackgroundEmulator(config) as emulator:
        local = emulator_settings(settings, emulator.url).model_copy(
            update={"etsy_qps": 0, "etsy_qpd": 0, "sync_processes": 1}
        )
        with open_runtime(local, upgrade=False) as shared:
            # A Redis namespace of this installation's own: ids restart at 1 in every test database, so sessions
            # running at the same time must never read each other's cached shop 1.
            cache = Cache(REDIS_URL, namespace=f"etsy-pipeline-test:{uuid.uuid4().hex}")
            runtime = replace(shared, cache=cache, repos=Repositories.build(shared.db, cache, local))
            access = build_access(
                local, runtime.repos.tokens, retry=RetryPolicy(attempts=8, base_seconds=0.01, cap_seconds=0.05)
            )
            access.client.limiter.reset()  # type: ignore[attr-defined]
            sellers = httpx.get(f"{emulator.url}/_emulator/credentials").json()["users"]
            shops = [
                record_connection(
                    runtime, access, authorize(access, email=s["email"], announce=lambda _: None), s["email"]
                )
                for s in sellers
            ]
            try:
                yield Installation(emulator, runtime, access, shops)
            finally:
                access.close()
                cache.close()
    _drop_raw(db)


@pytest.fixture
def tiny(settings: Settings, db: Database) -> Iterator[Installation]:
    yield from install(settings, db, Config(seed=42, scale="tiny", qps=0, qpd=0))
