"""Rows a load holds twice, removed before the shaping reads them: of the shop's rows in its new loads, one per
Etsy key stays (the newest load's, then the last one written), the copies' children go, and a child row held twice
keeps one copy.

Copies come from two places:
- a first load appends (`FIRST_LOAD_APPENDS`: no row of the shop to merge with, so dlt's staging copy and merge are
  skipped), and keeps what Etsy sent twice: a payment two ledger entries refer to, a record a page shift repeated;
- a load killed after PostgreSQL took a file but before dlt recorded it: the next run loads the file again (the
  same rows, the same `_dlt_id`s). dlt's merge does not remove those either: it picks one `_dlt_id` per key and
  inserts every staging row that has it, so a root table with children (listings, receipts) gets both copies.
Only loads a run found left behind (`reloaded`) can hold the second kind, so only then is every table and every
child row looked at (a fifth of a first pull's shaping otherwise); the first kind is looked for in the appended
tables on every load, at the price of one aggregate each. Runs in the shaping's transaction, before any step.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.transform.raw import FIRST_LOAD_APPENDS, ROOT_KEYS, RawSchema
from etsy_pipeline.transform.statements import IN_LOADS, changed, run


def dedupe_new_rows(conn: Connection, raw: RawSchema, p: dict[str, Any], *, reloaded: bool = False) -> int:
    """Remove the copies; returns how many root and child rows went."""
    removed = 0
    for root, key in _shop_roots(raw):
        table = raw.table(root)
        if not reloaded and (root not in FIRST_LOAD_APPENDS or not _repeats(conn, table, key, p)):
            continue
        gone = list(
            conn.execute(
                text(
                    f"""
                    DELETE FROM {table} d USING (
                        SELECT r.ctid AS at, row_number() OVER (
                            PARTITION BY r.{key} ORDER BY r._dlt_load_id DESC, r.ctid DESC) AS n
                        FROM {table} r WHERE {IN_LOADS.format(a="r")}
                    ) ranked
                    WHERE ranked.n > 1 AND d.ctid = ranked.at
                    RETURNING d._dlt_id
                    """
                ),
                p,
            ).scalars()
        )
        removed += len(gone)
        for child in children(raw, root):
            if gone:  # a copy's children, unless the copy left was the same row loaded twice (same `_dlt_id`)
                removed += run(
                    conn,
                    f"""
                    DELETE FROM {raw.table(child)} c WHERE c._dlt_root_id = ANY(:gone)
                      AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r._dlt_id = c._dlt_root_id)
                    """,
                    p | {"gone": sorted(set(gone))},
                )
            if not reloaded:
                continue
            removed += run(
                conn,
                f"""
                WITH {changed(table, "r", key)}
                DELETE FROM {raw.table(child)} d USING (
                    SELECT c.ctid AS at, row_number() OVER (PARTITION BY c._dlt_id ORDER BY c.ctid) AS n
                    FROM {raw.table(child)} c JOIN changed r ON c._dlt_root_id = r._dlt_id
                ) ranked
                WHERE ranked.n > 1 AND d.ctid = ranked.at
                """,
                p,
            )
    return removed


def drop_unfinished(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    """Remove the shop's rows of loads that never finished (no `_dlt_loads` entry); returns how many went.

    An appended load commits file by file, so a load killed part-way leaves receipts without their line items; when
    its package is lost with its process's disk (a container's), no run loads it again. Its rows must not be shaped:
    the next reads bring them again (the dead run never stored its cursors). Every load this run made or reloaded
    has finished before the shaping, and a shop's runs never overlap, so any other load of the shop is dead.
    """
    removed = 0
    loads = raw.table("_dlt_loads")
    for root, _ in _shop_roots(raw):
        table = raw.table(root)
        sql = f"""
            DELETE FROM {table} r WHERE {IN_LOADS.format(a="r")}
              AND NOT EXISTS (SELECT 1 FROM {loads} l WHERE l.load_id = r._dlt_load_id AND l.status = 0)
            RETURNING r._dlt_id"""
        gone = list(conn.execute(text(sql), p).scalars())
        removed += len(gone)
        for child in children(raw, root) if gone else []:
            removed += run(
                conn, f"DELETE FROM {raw.table(child)} c WHERE c._dlt_root_id = ANY(:gone)", p | {"gone": gone}
            )
    return removed


def _shop_roots(raw: RawSchema) -> list[tuple[str, str]]:
    """The root tables (and their Etsy key) whose rows say their shop and load: those a load can leave copies in."""
    return [
        (root, key) for root, key in ROOT_KEYS.items() if raw.has(root, "shop_id") and raw.has(root, "_dlt_load_id")
    ]


def _repeats(conn: Connection, table: str, key: str, p: dict[str, Any]) -> bool:
    """Whether some Etsy key is in the shop's new loads twice (one aggregate; the delete sorts every row)."""
    sql = f"SELECT EXISTS (SELECT 1 FROM {table} r WHERE {IN_LOADS.format(a='r')} GROUP BY r.{key} HAVING count(*) > 1)"
    return bool(conn.execute(text(sql), p).scalar())


def children(raw: RawSchema, root: str) -> list[str]:
    """The root's child tables that carry their root's id."""
    return sorted(t for t in raw.columns if t.startswith(root + "__") and raw.has(t, "_dlt_root_id"))
