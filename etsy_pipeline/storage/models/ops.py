"""The push outbox (`pending_changes`), the record of every sync (`sync_runs`) and the pull cursors
(`sync_cursors`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from etsy_pipeline.storage.base import CORE, Base, Timestamps, id_column

CHANGE_STATUSES = ("pending", "in_flight", "confirmed", "conflict", "failed")
ENTITY_TYPES = ("listing", "inventory", "receipt")
CHANGE_TYPES = ("inventory_quantity", "inventory_update", "listing_update", "shipment", "order_status")
# Changes still waiting for Etsy (a lease on an in-flight change may have expired: it is taken again).
OPEN_STATUSES = ("pending", "in_flight")

# Lower number goes first: inventory and order changes are critical and leave at once.
PRIORITY_CRITICAL = 0
PRIORITY_NORMAL = 5


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class PendingChange(Timestamps, Base):
    """A local change waiting to be pushed to Etsy; written in the same transaction as the local row.

    `base_values` holds the Etsy value of every field the change touches as the user saw it, and
    `base_updated_timestamp` Etsy's `updated_timestamp` of the listing or receipt then: conflicts are decided
    field by field against them. `etsy_value` keeps Etsy's value when Etsy won (conflict) or refused (failed).
    A runner owns an in-flight change until `claimed_until` (the lease); after that another runner may take it.
    """

    __tablename__ = "pending_changes"
    __table_args__ = (
        CheckConstraint(_in("status", CHANGE_STATUSES), name="status"),
        CheckConstraint(_in("entity_type", ENTITY_TYPES), name="entity_type"),
        CheckConstraint(_in("change_type", CHANGE_TYPES), name="change_type"),
        CheckConstraint("attempts >= 0", name="attempts"),
        # The push sensor's query: due changes in priority order.
        Index(
            "ix_pending_changes_due",
            "priority",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_pending_changes_entity", "entity_type", "entity_id"),
        {"schema": CORE},
    )

    id: Mapped[int] = id_column()
    shop_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), index=True)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey(f"{CORE}.users.id", ondelete="SET NULL"), index=True
    )
    entity_type: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[int]
    change_type: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]]
    base_updated_timestamp: Mapped[int | None]
    priority: Mapped[int] = mapped_column(SmallInteger, server_default=str(PRIORITY_NORMAL))
    status: Mapped[str] = mapped_column(String(20), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(80), unique=True)
    confirmed_at: Mapped[datetime | None]
    base_values: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    etsy_value: Mapped[dict[str, Any] | None]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))


SYNC_RUN_STATUSES = (
    "running",
    "succeeded",
    "failed",
    "partial",
    "quota_exhausted",
    "incomplete",  # the run ended, but core holds fewer rows than Etsy reports
    "skipped",  # another run of the shop held the lock
    "needs_reauth",
    "abandoned",  # the process died; found by the next run of the shop
)


class SyncRun(Base):
    """What one sync of one shop did: when, how, how many API calls, rows per table, where it stopped."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        CheckConstraint(_in("status", SYNC_RUN_STATUSES), name="status"),
        Index("ix_sync_runs_shop_id_started_at", "shop_id", "started_at"),
        {"schema": CORE},
    )

    id: Mapped[int] = id_column()
    shop_id: Mapped[int | None] = mapped_column(ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), server_default="running")
    started_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
    finished_at: Mapped[datetime | None]
    api_calls: Mapped[int] = mapped_column(Integer, server_default="0")
    rows: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    resume_state: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    error: Mapped[str | None] = mapped_column(Text)
    dagster_run_id: Mapped[str | None] = mapped_column(String(64))


class SyncCursor(Base):
    """How far one resource of one shop has been pulled into *this* database.

    Cursors live beside the rows they describe, written in the same transaction as the shaped rows, so a new,
    copied or restored database carries its own position: it never inherits another database's progress, and
    a cursor never moves past data that did not load.
    """

    __tablename__ = "sync_cursors"
    __table_args__ = ({"schema": CORE},)

    shop_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), primary_key=True)
    resource: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(server_default=text("now()"))
