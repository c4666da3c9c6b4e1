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
from etsy_pipeline.sources.etsy import etsy_source
from etsy_pipeline.sources.etsy.helpers import RunReport
from etsy_pipeline.storage.models import Shop
from etsy_pipeline.sync.clients import build_access
from etsy_pipeline.sync.outcome import SyncStatus
from etsy_pipeline.sync.runner import SyncResult, sync_shop

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
        if resource.name == resource.table_name  # follow-up readers (receipt re-reads) feed an existing table
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


@dg.multi_asset(
    name="etsy_pull",
    specs=RAW_SPECS + CORE_SPECS,
    partitions_def=shop_partitions,
    pool="etsy_api",
    description="Pull one shop from Etsy into etsy_raw (dlt), then shape core.",
)
def etsy_pull(context: dg.AssetExecutionContext, storage: StorageResource) -> Any:
    etsy_shop_id = int(context.partition_key)
    with storage.open() as runtime:
        with runtime.db.session() as session:
            shop_id = session.scalar(select(Shop.id).where(Shop.etsy_shop_id == etsy_shop_id))
        if shop_id is None:
            raise dg.Failure(f"shop {etsy_shop_id} is not connected (run `etsy-pipeline connect`)")
        access = build_access(runtime.settings, runtime.repos.tokens, reserve=runtime.settings.etsy_push_reserve)
        try:
            result = sync_shop(runtime, access, shop_id)
        finally:
            access.close()
    if result.status in (SyncStatus.FAILED, SyncStatus.NEEDS_REAUTH, SyncStatus.INCOMPLETE, SyncStatus.SKIPPED):
        # A skipped run materializes nothing: the run holding the shop's lock records what it pulls.
        raise dg.Failure(
            description=f"shop {etsy_shop_id}: {result.status}: {result.error}", metadata=_metadata(result)
        )
    if result.status == SyncStatus.QUOTA_EXHAUSTED:
        context.log.warning("Etsy's daily quota ran out: the next run continues where this one stopped")
    for key, metadata in materializations(result).items():
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)


def materializations(result: SyncResult) -> dict[dg.AssetKey, dict[str, Any]]:
    """What one shop's pull materialized, per asset: the same whether Dagster or the CLI ran it."""
    common = _metadata(result)
    out: dict[dg.AssetKey, dict[str, Any]] = {}
    for spec in RAW_SPECS:
        entity = spec.key.path[-1]
        out[spec.key] = {
            **common,
            "rows_fetched": result.fetched.get(entity, 0),
            "rows_quarantined": result.quarantined.get(entity, 0),
        }
    for spec in CORE_SPECS:
        table = spec.key.path[-1]
        out[spec.key] = {**common, ROW_COUNT: result.totals.get(table, 0), "rows_written": result.rows.get(table, 0)}
    return out
