"""Compare core with Etsy's own totals after every pull.

Etsy answers every list call with `count`, the number of records matching the query. The pull keeps the
receipt count from its first receipts call and the listing counts of each state's first page; after shaping,
core must hold at least that many (receipts created while the run was going only add to core). A record that is
in the quarantine and not in core is accounted for (it is reported there, with its error), not missing; so is a
record quarantined in this run without a usable id.
A shortfall means a cursor skipped data: the run says `incomplete` with the numbers, never `succeeded`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.transform.raw import RawSchema

# Rows each core table holds for one shop (tables without a shop column reach it through their parent).
SHOP_ROWS = {
    "shops": "SELECT count(*) FROM core.shops WHERE id = :s",
    "listings": "SELECT count(*) FROM core.listings WHERE shop_id = :s",
    "listing_images": "SELECT count(*) FROM core.listing_images i JOIN core.listings l ON l.id = i.listing_id "
    "WHERE l.shop_id = :s",
    "inventory": "SELECT count(*) FROM core.inventory WHERE shop_id = :s",
    "listing_snapshots": "SELECT count(*) FROM core.listing_snapshots n JOIN core.listings l ON l.id = n.listing_id "
    "WHERE l.shop_id = :s",
    "orders": "SELECT count(*) FROM core.orders WHERE shop_id = :s",
    "order_items": "SELECT count(*) FROM core.order_items i JOIN core.orders o ON o.id = i.order_id "
    "WHERE o.shop_id = :s",
    "customers": "SELECT count(*) FROM core.customers WHERE shop_id = :s",
}

CORE_COUNTS = {
    "receipts": SHOP_ROWS["orders"],
    "listings": "SELECT count(*) FROM core.listings WHERE shop_id = :s AND state <> 'removed'",
}
CORE_KEYS = {
    "receipts": "SELECT etsy_receipt_id::text FROM core.orders WHERE shop_id = :s",
    "listings": "SELECT etsy_listing_id::text FROM core.listings WHERE shop_id = :s AND state <> 'removed'",
}


@dataclass(frozen=True)
class Count:
    etsy: int
    core: int
    quarantined: int  # in the quarantine and not in core

    @property
    def missing(self) -> int:
        return max(0, self.etsy - self.core - self.quarantined)


@dataclass(frozen=True)
class Reconciliation:
    counts: dict[str, Count]

    def shortfall(self) -> str | None:
        short = [
            f"core holds {c.core:,} of the {c.etsy:,} {entity} Etsy reports ({c.quarantined:,} quarantined)"
            for entity, c in self.counts.items()
            if c.missing
        ]
        return "; ".join(short) or None

    def as_dict(self) -> dict[str, Any]:
        return {e: {"etsy": c.etsy, "core": c.core, "quarantined": c.quarantined} for e, c in self.counts.items()}


def _quarantined(conn: Connection, entity: str, shop_id: int, etsy_shop_id: int) -> int:
    if not RawSchema(conn).has("quarantine"):
        return 0
    sql = (
        "SELECT count(DISTINCT q.record_key) FROM etsy_raw.quarantine q WHERE q.entity = :e AND q.shop_id = :es "
        f"AND q.record_key ~ '^[0-9]+$' AND q.record_key NOT IN ({CORE_KEYS[entity]})"
    )
    return int(conn.execute(text(sql), {"e": entity, "es": etsy_shop_id, "s": shop_id}).scalar() or 0)


def reconcile(
    conn: Connection, shop_id: int, etsy_shop_id: int, etsy_counts: Mapping[str, int], unkeyed: Mapping[str, int]
) -> Reconciliation:
    """`unkeyed`: records of this run quarantined without a usable id, per entity."""
    counts = {}
    for entity, etsy in etsy_counts.items():
        if entity not in CORE_COUNTS:
            continue
        core = int(conn.execute(text(CORE_COUNTS[entity]), {"s": shop_id}).scalar() or 0)
        quarantined = _quarantined(conn, entity, shop_id, etsy_shop_id) + unkeyed.get(entity, 0) if core < etsy else 0
        counts[entity] = Count(etsy, core, quarantined)
    return Reconciliation(counts)


LATEST = """
SELECT DISTINCT ON (r.shop_id) s.etsy_shop_id, r.status, r.rows -> 'reconciliation' AS counts, r.finished_at
FROM core.sync_runs r JOIN core.shops s ON s.id = r.shop_id
WHERE r.status IN ('succeeded', 'incomplete') AND r.rows ? 'reconciliation'
ORDER BY r.shop_id, r.finished_at DESC
"""


def latest_by_shop(conn: Connection) -> dict[int, dict[str, Any]]:
    """Per Etsy shop id, the comparison of its latest finished pull (for the Dagster check and operators)."""
    return {
        int(etsy): {"status": status, "counts": counts or {}, "finished_at": str(finished)}
        for etsy, status, counts, finished in conn.execute(text(LATEST))
    }


# Every count of SHOP_ROWS in one statement: one round trip per pull instead of one per table.
ALL_SHOP_ROWS = "SELECT " + ", ".join(f"({sql}) AS {table}" for table, sql in SHOP_ROWS.items())


def shop_row_counts(conn: Connection, shop_id: int) -> dict[str, int]:
    """The shop's rows per core table after a pull: what the catalog shows as the partition's row count."""
    row = conn.execute(text(ALL_SHOP_ROWS), {"s": shop_id}).one()
    return {table: int(value or 0) for table, value in zip(SHOP_ROWS, row, strict=True)}
