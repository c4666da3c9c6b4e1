"""Asset checks on the shaped tables: core against Etsy's totals, keys unique, line items adding up, no orphans,
an empty quarantine (the SQL lives in `transform/integrity.py`). In a pull run each check looks at the shops its
run built (one, or a scheduled batch); run on its own, at every shop. The integrity checks are blocking: a failed
one stops anything downstream in the same run from building on broken core rows."""

import dagster as dg

from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.sync.reconcile import latest_by_shop
from etsy_pipeline.transform import integrity

ORDERS = dg.AssetKey(["core", "orders"])
ITEMS = dg.AssetKey(["core", "order_items"])
RAW_RECEIPTS = dg.AssetKey(["etsy_raw", "receipts"])


def _shops(context: dg.AssetCheckExecutionContext) -> list[int | None]:
    """The shop partitions the run built (Etsy shop ids), or [None] (every shop) when the check runs on its own."""
    if context.has_partition_key:
        return [int(context.partition_key)]
    if context.has_partition_key_range:
        return [int(key) for key in context.partition_keys]
    return [None]


def _scope(shops: list[int | None]) -> str:
    return ",".join(str(shop) for shop in shops) if shops != [None] else "all"


def _integrity(context: dg.AssetCheckExecutionContext, storage: StorageResource, name: str) -> dg.AssetCheckResult:
    shops = _shops(context)
    with storage.open() as runtime, runtime.db.engine.connect() as conn:
        found = sum(integrity.count(conn, name, shop) for shop in shops)
    return dg.AssetCheckResult(passed=found == 0, metadata={name: found, "shop": _scope(shops)})


@dg.asset_check(asset=ORDERS, description="Every Etsy receipt appears once in core.orders.", blocking=True)
def orders_keys_unique(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    return _integrity(context, storage, "duplicate_orders")


@dg.asset_check(asset=ITEMS, description="Every Etsy transaction appears once in core.order_items.", blocking=True)
def order_items_keys_unique(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    return _integrity(context, storage, "duplicate_line_items")


@dg.asset_check(
    asset=ITEMS,
    description="Each order's line items (price x quantity, less discounts) add up to its subtotal.",
    blocking=True,
)
def line_items_add_up(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    return _integrity(context, storage, "orders_not_adding_up")


@dg.asset_check(
    asset=ITEMS, description="No line item without its order, and none pointing at an unknown listing.", blocking=True
)
def no_orphan_line_items(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    return _integrity(context, storage, "orphan_line_items")


@dg.asset_check(asset=RAW_RECEIPTS, description="Records Etsy sent that did not fit wait in etsy_raw.quarantine.")
def quarantine_empty(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    with storage.open() as runtime, runtime.db.engine.connect() as conn:
        waiting = sum(integrity.quarantined(conn, shop) for shop in _shops(context))
    return dg.AssetCheckResult(
        passed=waiting == 0, severity=dg.AssetCheckSeverity.WARN, metadata={"quarantined_records": waiting}
    )


@dg.asset_check(
    asset=ORDERS,
    description="Core holds as many orders and listings as Etsy reports (each shop's latest pull compared them).",
)
def orders_match_etsy(context: dg.AssetCheckExecutionContext, storage: StorageResource) -> dg.AssetCheckResult:
    shops = _shops(context)
    with storage.open() as runtime, runtime.db.engine.connect() as conn:
        latest = {k: v for k, v in latest_by_shop(conn).items() if shops == [None] or k in shops}
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
