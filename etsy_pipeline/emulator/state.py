"""The emulator's backend state: the generated world, its indexes, auth, limits, faults, stats and quirks.

Queries that page (receipts, listings) are answered from sorted indexes and memoised per query until the state
changes, so walking a large result page by page costs one page each time, not one scan per page.
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

from etsy_pipeline.emulator.auth import AuthServer
from etsy_pipeline.emulator.clock import Clock
from etsy_pipeline.emulator.faults import Faults
from etsy_pipeline.emulator.generator import SCALES, generate
from etsy_pipeline.emulator.models import Listing, Receipt, World
from etsy_pipeline.emulator.payments import Event
from etsy_pipeline.emulator.ratelimit import RateLimiter
from etsy_pipeline.emulator.stats import Stats


@dataclass
class Quirks:
    """Etsy's documented behaviours that a kind emulator would hide; each can be switched off for a test."""

    refunds_bump_updated: bool = False  # Etsy does not bump updated_timestamp for refunds
    cancellations_bump_updated: float = 0.5  # share of cancellations that do bump it
    views_tabulated_daily: bool = True  # `views` moves once per simulated day, active listings only
    inventory_ids_change: bool = True  # product and offering ids change on every inventory update
    listing_page_overlap: bool = True  # a listing can appear on two consecutive pages

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Config:
    seed: int = 42
    scale: str = "small"
    qps: int = 10
    qpd: int = 10_000
    frozen_clock: bool = False
    # A served emulator holds millions of long-lived objects: moving them out of the garbage collector's
    # generations (gc.freeze) makes every later collection cheap, 2-3x faster responses on the large scales.
    freeze_gc: bool = False


@dataclass
class ReceiptIndex:
    by_created: list[tuple[int, int]] = field(default_factory=list)
    by_updated: list[tuple[int, int]] = field(default_factory=list)

    def add(self, receipt: Receipt) -> None:
        bisect.insort(self.by_created, (receipt.created, receipt.receipt_id))
        bisect.insort(self.by_updated, (receipt.updated, receipt.receipt_id))

    def touch(self, receipt: Receipt, old_updated: int) -> None:
        position = bisect.bisect_left(self.by_updated, (old_updated, receipt.receipt_id))
        if position < len(self.by_updated) and self.by_updated[position] == (old_updated, receipt.receipt_id):
            del self.by_updated[position]
        bisect.insort(self.by_updated, (receipt.updated, receipt.receipt_id))


def _credentials(seed: int) -> tuple[str, str]:
    digest = hashlib.sha256(f"etsy-emulator:{seed}".encode()).hexdigest()
    return digest[:24], digest[24:36]


class EmulatorState:
    def __init__(self, config: Config | None = None) -> None:
        self.config = config or Config()
        if self.config.scale not in SCALES:
            raise ValueError(f"scale must be one of {sorted(SCALES)}, got {self.config.scale!r}")
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Back to the generated data of the seed; tokens, stats, faults and quirks start afresh."""
        with self.lock:
            self.clock = Clock(frozen=self.config.frozen_clock)
            self.world: World = generate(self.config.seed, self.config.scale)
            keystring, secret = _credentials(self.config.seed)
            self.auth = AuthServer(keystring, secret, self.clock)
            for shop in self.world.shops.values():
                self.auth.seed_refresh_token(shop.user_id)
            self.limiter = RateLimiter(self.config.qps, self.config.qpd, self.clock)
            self.faults = Faults()
            self.stats = Stats()
            self.quirks = Quirks()
            self.advances = 0
            self.pending_ledger: dict[int, list[Event]] = {}
            self.advancing = False
            self.last_tabulation_day = self.clock.now() // 86_400
            self._index()
            if self.config.freeze_gc:
                gc.collect()
                gc.freeze()

    def _index(self) -> None:
        self.version = 0
        self._queries: OrderedDict[tuple[Any, ...], list[int]] = OrderedDict()
        self.receipt_index: dict[int, ReceiptIndex] = {s: ReceiptIndex() for s in self.world.shops}
        for receipt in sorted(self.world.receipts.values(), key=lambda r: r.created):
            index = self.receipt_index[receipt.shop_id]
            index.by_created.append((receipt.created, receipt.receipt_id))
        for index in self.receipt_index.values():
            index.by_created.sort()
        for receipt in self.world.receipts.values():
            self.receipt_index[receipt.shop_id].by_updated.append((receipt.updated, receipt.receipt_id))
        for index in self.receipt_index.values():
            index.by_updated.sort()
        self.transactions = {
            t.transaction_id: r.receipt_id for r in self.world.receipts.values() for t in r.transactions
        }

    def changed(self) -> None:
        """Forget memoised query results after any write."""
        self.version += 1
        self._queries.clear()

    def memo(self, key: tuple[Any, ...], compute: Any) -> list[int]:
        found = self._queries.get(key)
        if found is None:
            found = compute()
            self._queries[key] = found
            if len(self._queries) > 256:
                self._queries.popitem(last=False)
        return found

    # -- lookups -----------------------------------------------------------------------------------------------

    def shop_of_user(self, user_id: int) -> int | None:
        for shop in self.world.shops.values():
            if shop.user_id == user_id:
                return shop.shop_id
        return None

    def listings_of(self, shop_id: int, state: str) -> list[int]:
        """Listing ids of a shop in one state, newest first (Etsy's default `created` desc)."""

        def compute() -> list[int]:
            items = [x for x in self.world.listings.values() if x.shop_id == shop_id and x.state == state]
            items.sort(key=lambda x: (-x.created, -x.listing_id))
            return [x.listing_id for x in items]

        return self.memo(("listings", shop_id, state), compute)

    def active_count(self, shop_id: int) -> int:
        return len(self.listings_of(shop_id, "active"))

    def review_summary(self, shop_id: int) -> tuple[int, float | None]:
        ratings = self.memo(
            ("ratings", shop_id), lambda: [r.rating for r in self.world.reviews if r.shop_id == shop_id]
        )
        return len(ratings), (round(sum(ratings) / len(ratings), 4) if ratings else None)

    def sold_count(self, shop_id: int) -> int:
        def compute() -> list[int]:
            receipts = self.world.receipts.values()
            return [
                sum(t.quantity for r in receipts if r.shop_id == shop_id and not r.is_canceled for t in r.transactions)
            ]

        return self.memo(("sold", shop_id), compute)[0]

    def listing(self, listing_id: int) -> Listing | None:
        return self.world.listings.get(listing_id)

    def credentials(self) -> dict[str, Any]:
        users = []
        for shop in self.world.shops.values():
            owner = self.world.users[shop.user_id]
            users.append(
                {
                    "email": owner.email,
                    "user_id": owner.user_id,
                    "shop_id": shop.shop_id,
                    "refresh_token": self.auth.current_refresh_token(owner.user_id),
                }
            )
        return {
            "keystring": self.auth.keystring,
            "shared_secret": self.auth.shared_secret,
            "api_key": f"{self.auth.keystring}:{self.auth.shared_secret}",
            "users": users,
            "scopes": sorted({s for g in self.auth.refresh.values() for s in g.scopes}),
        }
