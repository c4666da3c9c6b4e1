"""What the push sensors and checks read: due changes per shop, and changes that need a person.

Critical changes (stock, orders) go as soon as they are due; listing edits are batched until enough are due or
the oldest has waited long enough. Reading only: nothing here claims or changes a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import PendingChange, Shop

CRITICAL_TYPES = ("inventory", "receipt")
BATCHED_TYPES = ("listing",)


@dataclass(frozen=True)
class DueBatch:
    etsy_shop_id: int
    highest_change_id: int
    count: int
    oldest_created_at: datetime
    last_touched: int  # epoch microseconds of the latest change to any of them (a retry, a release)

    def run_key(self, kind: str) -> str:
        """Shop and highest change id; a retry or release of the same changes touches them, so it asks again."""
        return f"{kind}:{self.etsy_shop_id}:{self.highest_change_id}:{self.last_touched}"


def due_batches(db: Database, entity_types: tuple[str, ...]) -> list[DueBatch]:
    """Per shop: the changes of these object types a push run would take now."""
    due = or_(
        and_(PendingChange.status == "pending", PendingChange.next_attempt_at <= func.now()),
        and_(PendingChange.status == "in_flight", PendingChange.claimed_until < func.now()),
    )
    query = (
        select(
            Shop.etsy_shop_id,
            func.max(PendingChange.id),
            func.count(),
            func.min(PendingChange.created_at),
            func.max(func.extract("epoch", PendingChange.updated_at) * 1_000_000),
        )
        .join(Shop, Shop.id == PendingChange.shop_id)
        .where(due, PendingChange.entity_type.in_(entity_types))
        .group_by(Shop.etsy_shop_id)
        .order_by(Shop.etsy_shop_id)
    )
    with db.session() as session:
        return [DueBatch(int(r[0]), int(r[1]), int(r[2]), r[3], int(r[4])) for r in session.execute(query)]


def ready(batch: DueBatch, now: datetime, *, size: int, max_age: timedelta) -> bool:
    """A batched push goes when `size` changes are due or the oldest has waited `max_age`."""
    return batch.count >= size or batch.oldest_created_at <= now - max_age


@dataclass(frozen=True)
class OutboxHealth:
    failed: int
    stale: int  # pending or in flight for more than the age given


def outbox_health(db: Database, stale_after: timedelta = timedelta(hours=1)) -> OutboxHealth:
    with db.session() as session:
        failed = session.scalar(select(func.count()).where(PendingChange.status == "failed"))
        stale = session.scalar(
            select(func.count()).where(
                PendingChange.status.in_(("pending", "in_flight")),
                PendingChange.created_at < func.now() - stale_after,
            )
        )
    return OutboxHealth(int(failed or 0), int(stale or 0))
