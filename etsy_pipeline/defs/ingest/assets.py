"""The pull: one multi-asset per shop partition that loads `etsy_raw/*` with dlt and shapes `core/*`.

The body is the same `sync_shop` the CLI runs, so the scheduled pull and `etsy-pipeline sync` share one code
path (cursors, quota stops, the raw watermark). Row counts in the metadata are computed by the sync itself,
not read back from dlt (which miscounts csv loads and raises on empty incremental ones).
"""

from typing import Any

import dagster as dg
from dagster_dlt.translator import DltResourceTranslatorData
from sqlalchemy import select

from etsy_pipeline.defs.catalog import ROW_COUNT, table_metadata
from etsy_pipeline.defs.ingest.partitions import shop_partitions
from etsy_pipeline.defs.ingest.translator import PULL_FRESHNESS, EtsyTranslator
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.runtime import Runtime
from etsy_pipeline.sources.etsy import etsy_source
from etsy_pipeline.sources.etsy.helpers import RunReport
from etsy_pipeline.storage.models import Shop
from etsy_pipeline.sync.clients import build_access
from etsy_pipeline.sync.outcome import SyncStatus
from etsy_pipeline.sync.runner import SyncResult, sync_shops

CORE_TABLES = (
    "shops",
    "listings",
    "listing_images",
    "inventory",
    "listing_snapshots",
    "orders",
    "order_items",
    "customers",
)
CORE_FROM_RAW = {
    "shops": ["shops"],
    "listings": ["listings"],
    "listing_images": ["listings"],
    "inventory": ["listings"],
    "listing_snapshots": ["listings"],
    "orders": ["receipts"],
    "order_items": ["receipts"],
    "customers": ["receipts"],
}


def raw_specs() -> list[dg.AssetSpec]:
    """Specs from the source's own resources (the source is only inspected here, never run)."""
    source = etsy_source(client=None, tokens=None, shop_id=0, report=RunReport())  # type: ignore[arg-type]
    translator = EtsyTranslator()
    return [
        translator.get_asset_spec(DltResourceTranslatorData(resource=resource, pipeline=None))
        for resource in source.resources.values()
        # Follow-up readers (receipt re-reads) feed another resource's table; a resource routing its items to
        # tables of its own (the fast path's `route`) names its table per item and owns it.
        if not isinstance(resource.table_name, str) or resource.name == resource.table_name
    ]


RAW_SPECS = raw_specs()
CORE_SPECS = [
    dg.AssetSpec(
        ["core", table],
        deps=[dg.AssetKey(["etsy_raw", raw]) for raw in CORE_FROM_RAW[table]],
        group_name="core",
        kinds={"postgres"},
        description=f"core.{table}: typed rows shaped from etsy_raw by set-based upserts.",
        metadata=table_metadata(f"core.{table}"),
        owners=["team:data-engineering"],
        tags={"layer": "core"},
        freshness_policy=PULL_FRESHNESS,
    )
    for table in CORE_TABLES
]


def _metadata(result: SyncResult) -> dict[str, Any]:
    return {
        "api_calls": result.api_calls,
        "quota_left_today": result.remaining_today if result.remaining_today is not None else "unknown",
        "sync_status": str(result.status),
        "receipts_reread_from_ledger": result.reread_receipts,
        "seconds": round(result.seconds, 2),
    }


# How a shop's pull ended, for the run's failure: a SyncResult that materializes nothing, or why it never started.
Problem = str
NOT_CONNECTED: Problem = "not connected (run `etsy-pipeline connect`)"
NOT_RECORDED = (SyncStatus.FAILED, SyncStatus.NEEDS_REAUTH, SyncStatus.INCOMPLETE, SyncStatus.SKIPPED)


@dg.multi_asset(
    name="etsy_pull",
    specs=RAW_SPECS + CORE_SPECS,
    partitions_def=shop_partitions,
    pool="etsy_api",
    description="Pull shops from Etsy into etsy_raw (dlt), then shape core: one shop, or a scheduled batch of them.",
)
def etsy_pull(context: dg.AssetExecutionContext, storage: StorageResource) -> Any:
    """Pull the run's shop partitions in this process (a run per shop costs a process per shop), each shop's
    extraction beside the previous shop's load and shape (`sync_shops`).

    One shop's failure stays its own: the other shops are still pulled and their partitions recorded as
    materialized with their own metadata; the failing shops are then named in the run's failure, which leaves
    their partitions failed. A single-shop run (the UI, a retry, `SYNC_SHOPS_PER_RUN=1`) behaves as it always
    did: its shop's trouble is the run's failure.
    """
    keys = list(context.partition_keys)
    results: dict[str, SyncResult] = {}
    problems: dict[str, Problem] = {}
    with storage.open() as runtime:
        access = build_access(runtime.settings, runtime.repos.tokens, reserve=runtime.settings.etsy_push_reserve)
        try:
            shops = _connected(runtime, keys)
            problems.update({key: NOT_CONNECTED for key in keys if key not in shops})
            for key, outcome in zip(shops, sync_shops(runtime, access, list(shops.values())), strict=True):
                if isinstance(outcome, Exception):
                    if len(keys) == 1:  # a single shop's trouble is the run's failure
                        raise outcome
                    context.log.error(f"shop {key}: the pull raised", exc_info=outcome)
                    problems[key] = f"{type(outcome).__name__}: {outcome}"[:500]
                    continue
                results[key] = outcome
                if outcome.status in NOT_RECORDED:
                    problems[key] = f"{outcome.status}: {outcome.error}"
        finally:
            access.close()
    if any(r.status == SyncStatus.QUOTA_EXHAUSTED for r in results.values()):
        context.log.warning("Etsy's daily quota ran out: the next run continues where this one stopped")
    if len(keys) == 1:
        yield from _single(keys[0], results.get(keys[0]), problems.get(keys[0]))
        return
    if not problems:  # the run's outputs materialize every partition of its range, each with its own shop's figures
        for key, result in results.items():
            for asset_key, metadata in materializations(result).items():
                context.add_asset_metadata(metadata, asset_key=asset_key, partition_key=key)
        for spec in RAW_SPECS + CORE_SPECS:
            yield dg.MaterializeResult(asset_key=spec.key)
        return
    # Some shops failed: the run's outputs would claim them too, so each good shop's partition is recorded alone.
    for key, result in results.items():
        if key not in problems:
            for asset_key, metadata in materializations(result).items():
                yield dg.AssetMaterialization(asset_key=asset_key, partition=key, metadata=metadata)
    raise dg.Failure(
        description=f"{len(problems)} of {len(keys)} shops not pulled: "
        + "; ".join(f"shop {key}: {problem}" for key, problem in problems.items()),
        metadata={"failed_shops": sorted(problems), "pulled_shops": len(keys) - len(problems)},
    )


def _single(key: str, result: SyncResult | None, problem: Problem | None) -> Any:
    """A run of one shop: its failure is the run's, its metadata the run's outputs'."""
    if result is None:  # the shop never started: not connected
        raise dg.Failure(f"shop {key} is {problem}")
    if problem is not None:
        # A skipped run materializes nothing: the run holding the shop's lock records what it pulls.
        raise dg.Failure(description=f"shop {key}: {problem}", metadata=_metadata(result))
    for asset_key, metadata in materializations(result).items():
        yield dg.MaterializeResult(asset_key=asset_key, metadata=metadata)


def _connected(runtime: Runtime, keys: list[str]) -> dict[str, int]:
    """The core id of each partition's shop (an Etsy shop id) still connected, in the partitions' order."""
    with runtime.db.session() as session:
        query = select(Shop.etsy_shop_id, Shop.id).where(Shop.etsy_shop_id.in_([int(key) for key in keys]))
        found = {int(etsy_shop_id): int(shop_id) for etsy_shop_id, shop_id in session.execute(query)}
    return {key: found[int(key)] for key in keys if int(key) in found}


def materializations(result: SyncResult) -> dict[dg.AssetKey, dict[str, Any]]:
    """What one shop's pull materialized, per asset: the same whether Dagster or the CLI ran it."""
    common = _metadata(result)
    out: dict[dg.AssetKey, dict[str, Any]] = {}
    for spec in RAW_SPECS:
        entity = spec.key.path[-1]
        out[spec.key] = {
            **common,
            "rows_fetched": result.fetched.get(entity, 0),
            "rows_unchanged": result.unchanged.get(entity, 0),  # fetched, equal to what is stored: not loaded
            "rows_quarantined": result.quarantined.get(entity, 0),
        }
    for spec in CORE_SPECS:
        table = spec.key.path[-1]
        out[spec.key] = {**common, ROW_COUNT: result.totals.get(table, 0), "rows_written": result.rows.get(table, 0)}
    return out
