"""The push run: claim what is due, push it object by object, record every outcome, until nothing is due.

Failure isolation: an object's failure ends only that object's changes (retry later, or failed); a revoked
token puts that shop's changes back to wait (`needs_reauth` in their error) while other shops go on; a spent
daily quota puts every claimed change back, uncounted, and ends the run.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from etsy_pipeline.etsy.errors import EtsyClientError, EtsyError, NeedsReauthorization, QuotaExhausted
from etsy_pipeline.push.backoff import Backoff
from etsy_pipeline.push.claims import Claimed, Outcome, claim, database_now, finish, renew
from etsy_pipeline.push.context import Decided, OutcomeStillUnknown, ShopContext
from etsy_pipeline.push.inventory import push_inventory
from etsy_pipeline.push.listings import push_listing
from etsy_pipeline.push.receipts import push_receipt
from etsy_pipeline.runtime import Runtime
from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.models import Shop
from etsy_pipeline.storage.repositories.base import InvalidArgumentError
from etsy_pipeline.sync.clients import EtsyAccess

log = logging.getLogger(__name__)

Pusher = Callable[[ShopContext, int, list[Claimed]], Decided]
PUSHERS: dict[str, Pusher] = {"inventory": push_inventory, "listing": push_listing, "receipt": push_receipt}


@dataclass
class PushSummary:
    confirmed: int = 0
    conflict: int = 0
    retry: int = 0
    failed: int = 0
    waiting: int = 0  # put back untried: a revoked token or a spent quota
    api_calls: int = 0
    stopped: str | None = None
    errors: list[str] = field(default_factory=list)

    def count(self, outcomes: dict[int, Outcome]) -> None:
        for outcome in outcomes.values():
            name = "waiting" if outcome.state == "released" else outcome.state
            setattr(self, name, getattr(self, name) + 1)

    def as_metadata(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("confirmed", "conflict", "retry", "failed", "waiting", "api_calls")}


def backoff_from(settings: Settings) -> Backoff:
    return Backoff(settings.push_backoff_base_seconds, settings.push_backoff_cap_seconds, settings.push_max_attempts)


def shop_ids_for(runtime: Runtime, etsy_shop_ids: list[int] | None) -> list[int] | None:
    if not etsy_shop_ids:
        return None
    with runtime.db.session() as session:
        rows = session.execute(select(Shop.etsy_shop_id, Shop.id).where(Shop.etsy_shop_id.in_(etsy_shop_ids)))
        found = {int(r[0]): int(r[1]) for r in rows}
    unknown = [s for s in etsy_shop_ids if s not in found]
    if unknown:
        raise InvalidArgumentError(f"--shop {unknown[0]}: no connected shop has this Etsy shop id")
    return [found[s] for s in etsy_shop_ids]


class PushRun:
    def __init__(self, runtime: Runtime, access: EtsyAccess, *, seed: int | None = None) -> None:
        self.runtime = runtime
        self.access = access
        self.settings = runtime.settings
        self.backoff = backoff_from(runtime.settings)
        self.rng = random.Random(seed)
        self.runner = f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.summary = PushSummary()

    def run(self, etsy_shop_ids: list[int] | None = None, entity_types: list[str] | None = None) -> PushSummary:
        """Push everything due once (changes made or retried during the run wait for the next one).

        `entity_types` narrows the run to some objects: the critical push takes inventory and receipts, the
        batched push listings.
        """
        shop_ids = shop_ids_for(self.runtime, etsy_shop_ids)
        started = database_now(self.runtime.db)
        calls_before = self.access.client.calls
        lease = self.settings.push_lease_seconds
        while self.summary.stopped is None:
            claimed = claim(self.runtime.db, self.runner, lease, started, shop_ids=shop_ids, entity_types=entity_types)
            if not claimed:
                break
            self._push_claimed(claimed)
        self.summary.api_calls = self.access.client.calls - calls_before
        return self.summary

    def _push_claimed(self, claimed: list[Claimed]) -> None:
        lease = self.settings.push_lease_seconds
        renewed = time.monotonic()
        held = {c.id for c in claimed}
        by_shop: dict[int, dict[tuple[str, int], list[Claimed]]] = defaultdict(lambda: defaultdict(list))
        for change in claimed:
            by_shop[change.shop_id][(change.entity_type, change.entity_id)].append(change)
        for shop_id, groups in by_shop.items():
            with self.runtime.db.session() as session:
                shop = session.get_one(Shop, shop_id)
                etsy_shop_id, user_id = shop.etsy_shop_id, shop.user_id
            tokens = self.access.tokens_for(user_id)
            ctx = ShopContext(self.runtime.db, self.access.client, tokens, shop_id, etsy_shop_id, user_id, self.runner)
            pending = list(groups.items())
            while pending:
                (entity_type, entity_id), changes = pending.pop(0)
                if time.monotonic() - renewed > lease / 3:  # renew well before the lease runs out
                    renew(self.runtime.db, self.runner, sorted(held), lease)
                    renewed = time.monotonic()
                held.difference_update(c.id for c in changes)
                if self.summary.stopped is not None:
                    self._record(changes, Decided().all(changes, Outcome("released", self.summary.stopped)))
                    continue
                try:
                    decided = PUSHERS[entity_type](ctx, entity_id, changes)
                except NeedsReauthorization as exc:
                    waiting = Outcome("released", f"needs_reauth: {exc}")
                    for _, rest in [((entity_type, entity_id), changes), *pending]:
                        self._record(rest, Decided().all(rest, waiting))
                    break
                except QuotaExhausted as exc:
                    self.summary.stopped = f"daily quota spent: {exc.etsy_message}"
                    self._record(changes, Decided().all(changes, Outcome("released", self.summary.stopped)))
                    continue
                except EtsyClientError as exc:
                    decided = Decided().all(changes, Outcome("failed", exc.etsy_message, {"status": exc.status}))
                except (EtsyError, OutcomeStillUnknown) as exc:
                    decided = self._retry(changes, str(exc))
                except Exception as exc:  # a bug or a database hiccup must not stop the other objects
                    log.exception("pushing %s %s failed", entity_type, entity_id)
                    decided = self._retry(changes, f"{type(exc).__name__}: {exc}")
                self._record(changes, decided)
            self.runtime.cache.invalidate_shop(shop_id, user_id)

    def _retry(self, changes: list[Claimed], error: str) -> Decided:
        decided = Decided()
        for change in changes:
            if self.backoff.exhausted(change.attempts):
                decided.outcomes[change.id] = Outcome("failed", f"gave up after {change.attempts} attempts: {error}")
            else:
                delay = self.backoff.delay(change.attempts, self.rng)
                decided.outcomes[change.id] = Outcome("retry", error, delay_seconds=delay)
        return decided

    def _record(self, changes: list[Claimed], decided: Decided) -> None:
        ours = finish(self.runtime.db, self.runner, decided.outcomes, decided.core_update)
        if ours < len(decided.outcomes):
            log.warning("%d change(s) were taken over by another runner (lease expired)", len(decided.outcomes) - ours)
        self.summary.count(decided.outcomes)
        for outcome in decided.outcomes.values():
            if outcome.state in ("failed", "conflict") and outcome.error:
                self.summary.errors.append(outcome.error)


def push_due(
    runtime: Runtime,
    access: EtsyAccess,
    etsy_shop_ids: list[int] | None = None,
    *,
    entity_types: list[str] | None = None,
    seed: int | None = None,
) -> PushSummary:
    """One push run over every due change (or those of some shops, by Etsy shop id, or of some object types)."""
    return PushRun(runtime, access, seed=seed).run(etsy_shop_ids, entity_types)
