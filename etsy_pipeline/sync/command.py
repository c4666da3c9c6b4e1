"""The `sync` and `connect` commands: progress per shop while it runs, a summary table at the end."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from etsy_pipeline.runtime import Runtime
from etsy_pipeline.sync.clients import EtsyAccess
from etsy_pipeline.sync.runner import SyncResult, connected_shops, or_raise, sync_shops


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
    with console.status(f"syncing {len(shops)} shop(s) ({'full' if full else 'incremental'})…"):
        for result in or_raise(sync_shops(runtime, access, [shop_id for shop_id, _ in shops], full=full)):
            console.print(
                f"shop {result.etsy_shop_id}: {result.status} in {result.seconds:.1f}s, {result.api_calls} API calls"
            )
            results.append(result)
    return results


def summary_table(results: list[SyncResult], title: str = "sync", runs: list[str] | None = None) -> Table:
    """One row per shop and run; `runs` names each row's run when one table shows several."""
    # Light rules and short headers: the table fits an 80-column terminal (calls = Etsy API calls).
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    columns = ["shop", "status", "calls", "fetched", "written", "quarantined", "time"]
    for column in (["run"] if runs else []) + columns:
        table.add_column(column, justify="left" if column in ("run", "shop", "status") else "right", no_wrap=True)
    for i, r in enumerate(results):
        table.add_row(
            *([runs[i]] if runs else []),
            str(r.etsy_shop_id),
            str(r.status),
            f"{r.api_calls:,}",
            f"{sum(r.fetched.values()):,}",
            f"{sum(r.rows.values()):,}",
            f"{sum(r.quarantined.values()):,}",
            f"{r.seconds:.1f}s",
        )
    errors = [f"shop {r.etsy_shop_id}: {r.error}" for r in results if r.error]
    if errors:
        table.caption = "; ".join(errors)
    return table
