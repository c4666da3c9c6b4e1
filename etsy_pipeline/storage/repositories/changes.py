"""The push outbox seen from the application: queueing a change beside its local row, the status overview,
and putting dead-lettered changes back.

The base of a change is the Etsy value the user saw. When a field already has a change waiting for Etsy, the
local row shows the *unconfirmed* value, so a new edit of that field inherits the waiting change's base: every
edit in a chain is then judged against the same Etsy value, and Etsy moving in between is still a conflict.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from etsy_pipeline.storage.models import PendingChange, Shop
from etsy_pipeline.storage.models.ops import CHANGE_STATUSES, OPEN_STATUSES
from etsy_pipeline.storage.repositories.base import InvalidArgumentError, Repository, to_view
from etsy_pipeline.storage.repositories.views import PendingChangeView


def open_changes(session: Session, entity_type: str, entity_ids: Iterable[int]) -> list[PendingChange]:
    """Changes of these entities still waiting for Etsy, oldest first."""
    ids = sorted(set(entity_ids))
    if not ids:
        return []
    return list(
        session.scalars(
            select(PendingChange)
            .where(
                PendingChange.entity_type == entity_type,
                PendingChange.entity_id.in_(ids),
                PendingChange.status.in_(OPEN_STATUSES),
            )
            .order_by(PendingChange.id)
        )
    )


def inherited_base(waiting: Sequence[PendingChange], fields: Iterable[str]) -> tuple[dict[str, Any], int | None]:
    """The base values (and Etsy updated_timestamp) a new edit of `fields` inherits from waiting changes."""
    base: dict[str, Any] = {}
    stamp: int | None = None
    wanted = set(fields)
    for change in waiting:
        for name, value in change.base_values.items():
            if name in wanted and name not in base:
                base[name] = value
                stamp = change.base_updated_timestamp if stamp is None else stamp
    return base, stamp


def new_change(
    *,
    shop_id: int,
    user_id: int | None,
    entity_type: str,
    entity_id: int,
    change_type: str,
    payload: dict[str, Any],
    base_values: dict[str, Any],
    base_updated_timestamp: int | None,
    priority: int,
    key: str | None = None,
) -> PendingChange:
    return PendingChange(
        shop_id=shop_id,
        created_by_user_id=user_id,
        entity_type=entity_type,
        entity_id=entity_id,
        change_type=change_type,
        payload=payload,
        base_values=base_values,
        base_updated_timestamp=base_updated_timestamp,
        priority=priority,
        idempotency_key=key or f"{change_type}:{uuid.uuid4()}",
    )


@dataclass(frozen=True)
class ChangeStatus:
    """One change as `push status` shows it (ids are Etsy's)."""

    id: int
    kind: str
    shop_id: int
    etsy_id: int
    state: str
    attempts: int
    error: str | None
    local_value: dict[str, Any]
    etsy_value: dict[str, Any] | None


def local_value(change: PendingChange) -> dict[str, Any]:
    """What the change writes, without the keys that only locate the object."""
    hidden = {"listing_id", "receipt_id", "variation_key", "previous_quantity"}
    payload = change.payload
    if isinstance(payload.get("fields"), dict):
        return dict(payload["fields"])
    return {k: v for k, v in payload.items() if k not in hidden and v is not None}


class ChangeRepository(Repository):
    """Read and reset the outbox. `user_id=None` is the operator's view over every shop."""

    def counts(self, user_id: int | None = None) -> dict[str, int]:
        query = select(PendingChange.status, func.count()).join(Shop, Shop.id == PendingChange.shop_id)
        if user_id is not None:
            query = query.where(Shop.user_id == user_id)
        with self.db.session() as session:
            found = dict((r[0], r[1]) for r in session.execute(query.group_by(PendingChange.status)))
        return {status: int(found.get(status, 0)) for status in CHANGE_STATUSES}

    def unconfirmed(self, user_id: int | None = None, limit: int = 1000) -> list[ChangeStatus]:
        """Every change not confirmed, newest first."""
        query = (
            select(PendingChange, Shop.etsy_shop_id)
            .join(Shop, Shop.id == PendingChange.shop_id)
            .where(PendingChange.status != "confirmed")
            .order_by(PendingChange.id.desc())
            .limit(limit)
        )
        if user_id is not None:
            query = query.where(Shop.user_id == user_id)
        with self.db.session() as session:
            return [
                ChangeStatus(
                    id=c.id,
                    kind=c.change_type,
                    shop_id=etsy_shop_id,
                    etsy_id=c.entity_id,
                    state=c.status,
                    attempts=c.attempts,
                    error=c.last_error,
                    local_value=local_value(c),
                    etsy_value=c.etsy_value,
                )
                for c, etsy_shop_id in session.execute(query)
            ]

    def retry(self, ids: Sequence[int] | None = None, *, user_id: int | None = None) -> list[PendingChangeView]:
        """Put dead-lettered (`failed`) changes back to pending: the given ids, or every failed one when None."""
        with self.db.session() as session:
            query = select(PendingChange).join(Shop, Shop.id == PendingChange.shop_id)
            if user_id is not None:
                query = query.where(Shop.user_id == user_id)
            if ids is not None:
                found = {c.id: c for c in session.scalars(query.where(PendingChange.id.in_(ids)))}
                for ident in ids:
                    change = found.get(ident)
                    if change is None:
                        raise InvalidArgumentError(f"change {ident} does not exist")
                    if change.status != "failed":
                        raise InvalidArgumentError(f"change {ident} is {change.status}, only failed changes retry")
                chosen = list(found.values())
            else:
                chosen = list(session.scalars(query.where(PendingChange.status == "failed")))
            if chosen:
                session.execute(
                    update(PendingChange)
                    .where(PendingChange.id.in_([c.id for c in chosen]))
                    .values(status="pending", attempts=0, next_attempt_at=func.now(), last_error=None,
                            etsy_value=None, claimed_by=None, claimed_until=None)
                )  # fmt: skip
                session.flush()
                for change in chosen:
                    session.refresh(change)
            return [to_view(PendingChangeView, c) for c in chosen]
