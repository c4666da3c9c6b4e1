"""Touched days: the order days a sync changed, which the analytics sensor rebuilds (late refunds included).

A sync stores them with its run (`core.sync_runs.rows`, under `touched_days`, as ISO dates); this module is the
only code that writes or reads that JSON, so the runner and the Dagster sensor exchange `date`s, not strings
in an untyped dict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from etsy_pipeline.storage.models import SyncRun

KEY = "touched_days"


def encode(days: Iterable[date]) -> list[str]:
    """The days as stored with a run: sorted ISO dates, each once."""
    return [d.isoformat() for d in sorted(set(days))]


@dataclass(frozen=True)
class Touched:
    newest_run_id: int  # the sensor's next cursor: every finished run up to here is accounted for
    days: frozenset[date]


def touched_since(session: Session, after_run_id: int) -> Touched:
    """The days touched by the runs finished after `after_run_id` (a run still going is read once it ends)."""
    runs = session.execute(
        select(SyncRun.id, SyncRun.rows)
        .where(SyncRun.id > after_run_id, SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.id)
    ).all()
    days = {date.fromisoformat(day) for _, rows in runs for day in (rows or {}).get(KEY, [])}
    return Touched(max([after_run_id, *(run_id for run_id, _ in runs)]), frozenset(days))
