"""Month partitions of `analytics.shop_daily_metrics`, created on demand before a date range is written."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, text


def ensure_shop_daily_metrics_partitions(conn: Connection, start: date, end: date) -> int:
    """Create the missing month partitions covering [start, end]; returns how many were created."""
    if end < start:
        raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
    created = conn.execute(
        text("SELECT analytics.ensure_shop_daily_metrics_partitions(:start, :end)"),
        {"start": start, "end": end},
    ).scalar_one()
    return int(created)


def list_shop_daily_metrics_partitions(conn: Connection) -> list[str]:
    """Names of the existing month partitions, oldest first."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent "
            "JOIN pg_namespace n ON n.oid = p.relnamespace "
            "WHERE n.nspname = 'analytics' AND p.relname = 'shop_daily_metrics' ORDER BY c.relname"
        )
    )
    return [r[0] for r in rows]
