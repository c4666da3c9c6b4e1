"""Asset checks on the shaped tables: core against Etsy's totals, keys unique, line items adding up, no orphans,
an empty quarantine. The integrity checks are blocking: in a run that also builds analytics, a failed one stops
analytics from building on broken core rows."""

import dagster as dg

from etsy_pipeline.defs.resources import StorageResource, scalar
from etsy_pipeline.sync.reconcile import latest_by_shop

ORDERS = dg.AssetKey(["core", "orders"])
ITEMS = dg.AssetKey(["core", "order_items"])
RAW_RECEIPTS = dg.AssetKey(["etsy_raw", "receipts"])


@dg.asset_check(asset=ORDERS, description="Every Etsy receipt appears once in core.orders.", blocking=True)
def orders_keys_unique(storage: StorageResource) -> dg.AssetCheckResult:
    duplicates = scalar(storage, "SELECT count(*) - count(DISTINCT etsy_receipt_id) FROM core.orders")
    return dg.AssetCheckResult(passed=duplicates == 0, metadata={"duplicates": duplicates})


@dg.asset_check(asset=ITEMS, description="Every Etsy transaction appears once in core.order_items.", blocking=True)
def order_items_keys_unique(storage: StorageResource) -> dg.AssetCheckResult:
    duplicates = scalar(storage, "SELECT count(*) - count(DISTINCT etsy_transaction_id) FROM core.order_items")
    return dg.AssetCheckResult(passed=duplicates == 0, metadata={"duplicates": duplicates})


@dg.asset_check(
    asset=ITEMS,
    description="Each order's line items (price x quantity, less discounts) add up to its subtotal.",
    blocking=True,
)
def line_items_add_up(storage: StorageResource) -> dg.AssetCheckResult:
    wrong = scalar(
        storage,
        """
        SELECT count(*) FROM core.orders o
        WHERE o.subtotal <> coalesce((SELECT sum(i.price * i.quantity) FROM core.order_items i
                                      WHERE i.order_id = o.id), 0) - o.discount_amt
        """,
    )
    return dg.AssetCheckResult(passed=wrong == 0, metadata={"orders_not_adding_up": wrong})


@dg.asset_check(
    asset=ITEMS, description="No line item without its order, and none pointing at an unknown listing.", blocking=True
)
def no_orphan_line_items(storage: StorageResource) -> dg.AssetCheckResult:
    orphans = scalar(
        storage,
        """
        SELECT count(*) FROM core.order_items i
        WHERE NOT EXISTS (SELECT 1 FROM core.orders o WHERE o.id = i.order_id)
           OR (i.etsy_listing_id IS NOT NULL AND i.listing_id IS NULL)
        """,
    )
    return dg.AssetCheckResult(passed=orphans == 0, metadata={"orphans": orphans})


@dg.asset_check(asset=RAW_RECEIPTS, description="Records Etsy sent that did not fit wait in etsy_raw.quarantine.")
def quarantine_empty(storage: StorageResource) -> dg.AssetCheckResult:
    exists = scalar(
        storage,
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'etsy_raw' AND table_name = 'quarantine'",
    )
    waiting = scalar(storage, "SELECT count(*) FROM etsy_raw.quarantine") if exists else 0
    return dg.AssetCheckResult(
        passed=waiting == 0, severity=dg.AssetCheckSeverity.WARN, metadata={"quarantined_records": waiting}
    )


@dg.asset_check(
    asset=ORDERS,
    description="Core holds as many orders and listings as Etsy reports (each shop's latest pull compared them).",
)
def orders_match_etsy(storage: StorageResource) -> dg.AssetCheckResult:
    with storage.open() as runtime, runtime.db.engine.connect() as conn:
        latest = latest_by_shop(conn)
    short = sorted(shop for shop, run in latest.items() if run["status"] == "incomplete")
    table = {
        str(shop): {entity: f"{c['core']:,} of {c['etsy']:,}" for entity, c in run["counts"].items()}
        for shop, run in latest.items()
    }
    return dg.AssetCheckResult(
        passed=not short, metadata={"shops_incomplete": short, "core_of_etsy": dg.MetadataValue.json(table)}
    )


CHECKS = [
    orders_match_etsy,
    orders_keys_unique,
    order_items_keys_unique,
    line_items_add_up,
    no_orphan_line_items,
    quarantine_empty,
]
