"""Raw → core: set-based upserts from `etsy_raw` into the typed `core` tables, one shop at a time.

Only rows of loads newer than the shop's watermark (`core.shops.raw_load_id`) are read, so the cost follows
what the load changed, not the size of the tables. Each entity has its module (`shops`, `listings`,
`inventory`, `orders`, `customers`, and `transform/payments.py`, `sections.py`, `reviews.py`); every merge is
`storage.upsert.upsert_sql` and every Money conversion `core.money` (the twin of `storage/money.py`). Children
(images, inventory, line items) of a changed parent are upserted and the ones Etsy no longer lists are removed.
Everything runs in the caller's transaction: the watermark moves only if every table was shaped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from etsy_pipeline.transform.core.customers import shape_customers
from etsy_pipeline.transform.core.inventory import shape_inventory
from etsy_pipeline.transform.core.listings import mark_removed_listings, shape_images, shape_listings, snapshot_listings
from etsy_pipeline.transform.core.orders import shape_order_items, shape_orders
from etsy_pipeline.transform.core.shops import shape_shop_row
from etsy_pipeline.transform.dedupe import dedupe_new_rows, drop_unfinished
from etsy_pipeline.transform.payments import shape_ledger_entries, shape_payments
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.reviews import shape_reviews
from etsy_pipeline.transform.sections import shape_sections
from etsy_pipeline.transform.statements import IN_LOADS

log = logging.getLogger(__name__)

Step = Callable[[Connection, RawSchema, dict[str, Any]], int]
STEPS: tuple[tuple[str, Step], ...] = (
    ("shops", shape_shop_row),
    ("listings", shape_listings),
    ("listings_removed", mark_removed_listings),
    ("listing_images", shape_images),
    ("inventory", shape_inventory),
    ("listing_snapshots", snapshot_listings),
    ("orders", shape_orders),
    ("order_items", shape_order_items),
    ("customers", shape_customers),
    ("payments", shape_payments),
    ("ledger_entries", shape_ledger_entries),
    ("shop_sections", shape_sections),
    ("reviews", shape_reviews),
)


def touched_days(conn: Connection, raw: RawSchema, p: dict[str, Any], tz: str) -> list[date]:
    """Days (in the analytics time zone) of the orders this load changed: the analytics days to rebuild."""
    if not raw.has("receipts"):
        return []
    rows = conn.execute(
        text(
            f"""
            SELECT DISTINCT (to_timestamp(r.created_timestamp) AT TIME ZONE :tz)::date FROM {raw.table("receipts")} r
            WHERE {IN_LOADS.format(a="r")} ORDER BY 1
            """
        ),
        p | {"tz": tz},
    )
    return [day for (day,) in rows]


@dataclass
class Shaped:
    """What shaping a shop's new loads did: rows written per core table, and the order days they changed."""

    rows: dict[str, int] = field(default_factory=dict)
    touched_days: list[date] = field(default_factory=list)


# For the rest of the shaping's transaction: no JIT (the statistics of tables a load has just filled lag behind, so
# PostgreSQL compiled statements that run in less time than the compiling: 0.4 s of a 0.8 s customer aggregation on a
# 17,000-order load) and room to sort and hash a first load's rows in memory (4 MB by default: a first pull's
# ledger entries, sorted by key, went to disk).
TUNING = ("SET LOCAL jit = off", "SET LOCAL work_mem = '64MB'")
SCAN_STEPS = ("listings_removed", "listing_snapshots")  # due after a listing scan even when nothing was loaded


def shape_shop(
    conn: Connection, *, shop_id: int, etsy_shop_id: int, listings_seen: Collection[int] = (),
    listing_scan_complete: bool = False, tz: str = "UTC", reloaded: bool = False,
) -> Shaped:  # fmt: skip
    """Shape every load of the shop newer than its watermark, and what the listing scan saw.

    Unchanged listings are not loaded (`sources/etsy/digests.py`), so the listings a scan saw (`listings_seen`)
    come separately: they are snapshotted for today and, after a complete scan, every other listing of the shop
    is removed, even in a run that loaded nothing. `reloaded`: the loads may hold files loaded twice, by a run that
    found a killed run's package (`transform/dedupe.py`).
    """
    raw = RawSchema(conn)
    if not raw.has("_dlt_loads"):
        return Shaped()
    since = conn.execute(
        text("SELECT coalesce(raw_load_id, '') FROM core.shops WHERE id = :id"), {"id": shop_id}
    ).scalar()
    upto = conn.execute(text(f"SELECT max(load_id) FROM {raw.table('_dlt_loads')} WHERE status = 0")).scalar()
    loaded = upto is not None and not (since and upto <= since)
    if not loaded and not listings_seen and not listing_scan_complete:
        return Shaped()
    params = {
        "shop_id": shop_id,
        "etsy_shop_id": etsy_shop_id,
        "since": since or "",
        "upto": upto if loaded else since or "",
        "seen": list(listings_seen),
        "complete": listing_scan_complete,
    }
    if loaded:
        unfinished = drop_unfinished(conn, raw, params)
        if unfinished:
            log.warning("shop %s: %d raw rows of a load that never finished removed", etsy_shop_id, unfinished)
        deduped = dedupe_new_rows(conn, raw, params, reloaded=reloaded)
        if deduped:
            log.info("shop %s: %d raw rows its new loads held twice removed", etsy_shop_id, deduped)
    if loaded:
        for setting in TUNING:
            conn.execute(text(setting))
    shaped = Shaped(touched_days=touched_days(conn, raw, params, tz) if loaded else [])
    for name, step in STEPS:
        if not loaded and name not in SCAN_STEPS:
            continue
        started = time.perf_counter()
        shaped.rows[name] = step(conn, raw, params)
        log.debug(
            "shaped %s for shop %s: %s rows in %.2fs",
            name,
            etsy_shop_id,
            shaped.rows[name],
            time.perf_counter() - started,
        )
    if loaded:
        conn.execute(text("UPDATE core.shops SET raw_load_id = :upto WHERE id = :id"), {"upto": upto, "id": shop_id})
    return shaped
