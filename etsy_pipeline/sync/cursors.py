"""Pull cursors stored in `core.sync_cursors`, in the database whose rows they describe.

They are written in the same transaction as the shaped rows (see `runner.py`), so a database restored from a
backup, copied, or new carries its own position and the next run catches it up; nothing under DATA_DIR matters.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import Connection, text

UPSERT = """
INSERT INTO core.sync_cursors (shop_id, resource, value, updated_at) VALUES (:shop_id, :resource, :value, now())
ON CONFLICT (shop_id, resource) DO UPDATE SET value = greatest(sync_cursors.value, EXCLUDED.value), updated_at = now()
"""


def load_cursors(conn: Connection, shop_id: int) -> dict[str, int]:
    rows = conn.execute(text("SELECT resource, value FROM core.sync_cursors WHERE shop_id = :s"), {"s": shop_id})
    return {resource: int(value) for resource, value in rows}


def save_cursors(conn: Connection, shop_id: int, cursors: Mapping[str, int]) -> None:
    """Cursors only move forward here (a package recovered late never moves one back); `drop_cursors` resets."""
    rows = [{"shop_id": shop_id, "resource": resource, "value": int(value)} for resource, value in cursors.items()]
    if rows:  # one executemany (batched by the driver), not a round trip per cursor
        conn.execute(text(UPSERT), rows)


def drop_cursors(conn: Connection, shop_id: int, resources: list[str]) -> None:
    """Forget where some resources were, so the next run reads them from the start."""
    conn.execute(
        text("DELETE FROM core.sync_cursors WHERE shop_id = :s AND resource = ANY(:r)"), {"s": shop_id, "r": resources}
    )
