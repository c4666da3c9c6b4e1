"""The `sync` and `connect` commands: progress per shop while it runs, a summary table at the end."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from etsy_pipeline.runtime import Runtime
from etsy_pipeline.sync.clients import EtsyAccess
from etsy_pipeline.sync.runner import SyncResult, connected_shops, sync_shop


def sync_all(
    runtime: Runtime,
    access: EtsyAccess,
    console: Console,
    *,
    etsy_shop_ids: list[int] | None = None,
    full: bool = False,
) -> list[SyncResult]:
    shops = connected_shops(runtime, etsy_shop_ids)
    if etsy_shop_ids and len(shops) < len(etsy_shop_ids):
        missing = sorted(set(etsy_shop_ids) - {etsy for _, etsy in shops})
        raise LookupError(f"shop(s) {missing} are not connected; run `etsy-pipeline connect` first")
    results = []
    for shop_id, etsy_shop_id in shops:
        with console.status(f"syncing shop {etsy_shop_id} ({'full' if full else 'incremental'})…"):
            result = sync_shop(runtime, access, shop_id, full=full)
        console.print(f"shop {etsy_shop_id}: {result.status} in {result.seconds:.1f}s, {result.api_calls} API calls")
        results.append(result)
    return results


def summary_table(results: list[SyncResult], title: str = "sync") -> Table:
    table = Table(title=title)
    for column in ("shop", "status", "API calls", "records fetched", "core rows written", "quarantined", "time"):
        table.add_column(column, justify="left" if column in ("shop", "status") else "right")
    for r in results:
        table.add_row(
            str(r.etsy_shop_id),
            r.status if not r.error else f"{r.status}: {r.error[:60]}",
            f"{r.api_calls:,}",
            f"{sum(r.fetched.values()):,}",
            f"{sum(r.rows.values()):,}",
            f"{sum(r.quarantined.values()):,}",
            f"{r.seconds:.1f}s",
        )
    return table
