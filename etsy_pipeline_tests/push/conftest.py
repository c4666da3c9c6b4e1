"""A synced installation against the emulator, and helpers that read Etsy's side through the emulator's API."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from etsy_pipeline.emulator.models import Listing as EmulatorListing
from etsy_pipeline.emulator.models import Receipt
from etsy_pipeline.emulator.state import Config
from etsy_pipeline.etsy.auth import TokenManager
from etsy_pipeline.push.engine import PushRun, PushSummary
from etsy_pipeline.runtime import Runtime
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.database import Database
from etsy_pipeline_tests.sync.conftest import Installation, install


@dataclass
class Pushing:
    """The installation, acting on its second shop by default (the tiny seed gives it five unshipped orders)."""

    inst: Installation
    main: int = 1

    @property
    def runtime(self) -> Runtime:
        return self.inst.runtime

    @property
    def user_id(self) -> int:
        return self.inst.shops[self.main].user_id

    @property
    def etsy_shop_id(self) -> int:
        return self.inst.shops[self.main].etsy_shop_id

    def tokens(self, index: int | None = None) -> TokenManager:
        return self.inst.access.tokens_for(self.inst.shops[self.main if index is None else index].user_id)

    def push(self, **settings: Any) -> PushSummary:
        runtime = self.runtime
        if settings:
            runtime = dataclasses.replace(runtime, settings=runtime.settings.model_copy(update=settings))
        return PushRun(runtime, self.inst.access, seed=7).run()

    def etsy(self, path: str, index: int | None = None) -> Any:
        """Etsy's side, read through the emulator's own API."""
        return self.inst.access.client.get(path, tokens=self.tokens(index))

    def etsy_offerings(self, listing_id: int) -> dict[str, dict[str, Any]]:
        """sku -> {quantity, price} as getListingInventory shows it."""
        inventory = self.etsy(f"/listings/{listing_id}/inventory")
        out = {}
        for product in inventory["products"]:
            offer = product["offerings"][0]
            out[product["sku"]] = {
                "quantity": offer["quantity"],
                "price": offer["price"]["amount"] / offer["price"]["divisor"],
            }
        return out

    def calls(self) -> dict[str, int]:
        return dict(self.inst.stats()["calls"])

    def listings(self, *, variations: bool | None = None, index: int | None = None) -> list[EmulatorListing]:
        """The shop's active listings with SKUs on every product, from the emulator's own objects."""
        shop = self.inst.shops[self.main if index is None else index].etsy_shop_id
        found = [
            x
            for x in self.inst.state.world.listings.values()
            if x.shop_id == shop and x.state == "active" and all(p.sku for p in x.inventory.products)
        ]
        if variations is not None:
            found = [x for x in found if (len(x.inventory.products) > 1) == variations]
        return sorted(found, key=lambda x: x.listing_id)

    def open_receipts(self, index: int | None = None) -> list[Receipt]:
        shop = self.inst.shops[self.main if index is None else index].etsy_shop_id
        receipts = self.inst.state.world.receipts.values()
        found = [r for r in receipts if r.shop_id == shop and not r.is_shipped and not r.is_canceled]
        return sorted(found, key=lambda r: r.receipt_id)


@pytest.fixture
def pushing(settings: Settings, db: Database) -> Iterator[Pushing]:
    with_push = settings.model_copy(update={"push_backoff_base_seconds": 0.0})
    for inst in install(with_push, db, Config(seed=42, scale="tiny", qps=0, qpd=0)):
        inst.sync_all()
        yield Pushing(inst)
