"""Claiming due changes under a lease, and recording how each one ended.

Claims take rows `FOR UPDATE SKIP LOCKED`, so two runners never take the same change, and set a lease
(`claimed_until`): a runner that crashes loses its changes when the lease runs out, and the next runner takes
them again. Because a listing's changes are pushed together (one read, one full-replace write), two runners must
not work on the same listing at once either: claims are serialised by a short transaction-level advisory lock
and skip every object that has a change in flight under a live lease.

Every outcome is written only while this runner still holds the change (`claimed_by`), so a runner whose lease
ran out cannot overwrite the work of the runner that took the change over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import OAuthToken, PendingChange, Shop

CLAIM_LOCK = 0x70757368  # "push": the advisory lock that serialises claims
CLAIM_ROWS = 500


@dataclass(frozen=True)
class Claimed:
    """A change this runner holds, detached from the session."""

    id: int
    shop_id: int
    entity_type: str
    entity_id: int
    change_type: str
    payload: dict[str, Any]
    base_values: dict[str, Any]
    base_updated_timestamp: int | None
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """How one change ended in this run: confirmed, conflict, failed, retry (with its delay) or released."""

    state: str
    error: str | None = None
    etsy_value: dict[str, Any] | None = None
    delay_seconds: float = 0.0


def database_now(db: Database) -> datetime:
    with db.session() as session:
        return session.execute(select(func.now())).scalar_one()


def _due(started: datetime) -> Any:
    expired = and_(PendingChange.status == "in_flight", PendingChange.claimed_until < func.now())
    due = and_(PendingChange.status == "pending", PendingChange.next_attempt_at <= func.now())
    # Changes created or handled after the run began wait for the next run: a run pushes what was due once.
    return and_(or_(due, expired), PendingChange.updated_at < started)


def claim(
    db: Database,
    runner: str,
    lease_seconds: int,
    started: datetime,
    *,
    shop_ids: Sequence[int] | None = None,
    entity_types: Sequence[str] | None = None,
) -> list[Claimed]:
    """Take due changes (whole objects where the batch allows) for this runner, highest priority first."""
    busy = aliased(PendingChange)
    in_flight_elsewhere = exists().where(
        busy.entity_type == PendingChange.entity_type,
        busy.entity_id == PendingChange.entity_id,
        busy.status == "in_flight",
        busy.claimed_until >= func.now(),
    )
    token_ok = exists().where(
        Shop.id == PendingChange.shop_id, OAuthToken.user_id == Shop.user_id, OAuthToken.status == "active"
    )
    query = (
        select(PendingChange)
        .where(_due(started), ~in_flight_elsewhere, token_ok)
        .order_by(PendingChange.priority, PendingChange.entity_type, PendingChange.entity_id, PendingChange.id)
        .limit(CLAIM_ROWS)
        .with_for_update(skip_locked=True)
    )
    if shop_ids is not None:
        query = query.where(PendingChange.shop_id.in_(shop_ids))
    if entity_types is not None:
        query = query.where(PendingChange.entity_type.in_(entity_types))
    with db.session() as session:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK})
        rows = list(session.scalars(query))
        if not rows:
            return []
        last = (rows[-1].entity_type, rows[-1].entity_id)
        if len(rows) == CLAIM_ROWS and (rows[0].entity_type, rows[0].entity_id) != last:
            # The limit may have cut the last object's changes in two: leave it whole for the next claim.
            rows = [r for r in rows if (r.entity_type, r.entity_id) != last]
        until = session.execute(select(func.now() + timedelta(seconds=lease_seconds))).scalar_one()
        session.execute(
            update(PendingChange)
            .where(PendingChange.id.in_([r.id for r in rows]))
            .values(status="in_flight", claimed_by=runner, claimed_until=until, attempts=PendingChange.attempts + 1),
            execution_options={"synchronize_session": False},
        )
        return [
            Claimed(r.id, r.shop_id, r.entity_type, r.entity_id, r.change_type, dict(r.payload), dict(r.base_values),
                    r.base_updated_timestamp, r.attempts + 1)
            for r in rows
        ]  # fmt: skip


def renew(db: Database, runner: str, ids: Sequence[int], lease_seconds: int) -> None:
    """Extend this runner's lease on changes it still holds (a long batch must not lose them midway)."""
    if not ids:
        return
    with db.session() as session:
        session.execute(
            update(PendingChange)
            .where(PendingChange.id.in_(ids), PendingChange.claimed_by == runner, PendingChange.status == "in_flight")
            .values(claimed_until=func.now() + timedelta(seconds=lease_seconds)),
            execution_options={"synchronize_session": False},
        )


def finish(
    db: Database,
    runner: str,
    outcomes: dict[int, Outcome],
    core_update: Callable[[Session], None] | None = None,
) -> int:
    """Record outcomes (and Etsy's values in core) in one transaction; returns how many changes were still ours."""
    if not outcomes:
        return 0
    groups: dict[str, tuple[Outcome, list[int]]] = {}
    for change_id, outcome in outcomes.items():
        key = orjson.dumps(outcome, option=orjson.OPT_SORT_KEYS).decode()
        groups.setdefault(key, (outcome, []))[1].append(change_id)
    with db.session() as session:
        written = 0
        for outcome, ids in groups.values():
            result = session.execute(
                update(PendingChange)
                .where(
                    PendingChange.id.in_(ids),
                    PendingChange.claimed_by == runner,
                    PendingChange.status == "in_flight",
                )
                .values(**_values(outcome)),
                execution_options={"synchronize_session": False},
            )
            written += int(result.rowcount or 0)  # type: ignore[attr-defined]
        if core_update is not None:
            core_update(session)
    return written


def _values(outcome: Outcome) -> dict[str, Any]:
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    if outcome.state == "released":  # not attempted after all (quota, token): the attempt does not count
        return values | {"status": "pending", "attempts": PendingChange.attempts - 1, "last_error": outcome.error}
    if outcome.state == "retry":
        later = func.now() + timedelta(seconds=outcome.delay_seconds)
        return values | {"status": "pending", "next_attempt_at": later, "last_error": outcome.error}
    values |= {"status": outcome.state, "last_error": outcome.error, "etsy_value": outcome.etsy_value}
    if outcome.state == "confirmed":
        values["confirmed_at"] = func.now()
    return values
