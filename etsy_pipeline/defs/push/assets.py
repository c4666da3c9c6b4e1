"""The push as a Dagster asset: one run pushes one shop's due changes (critical or batched) through Etsy's
shared API pool, and records what happened; a check warns when changes need a person."""

from typing import Literal

import dagster as dg

from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.push.due import BATCHED_TYPES, CRITICAL_TYPES, outbox_health
from etsy_pipeline.push.engine import push_due
from etsy_pipeline.sync.clients import build_access

KINDS: dict[str, list[str] | None] = {"critical": list(CRITICAL_TYPES), "batched": list(BATCHED_TYPES), "all": None}


class PushConfig(dg.Config):
    """Which shop (Etsy shop id; none: every shop) and which changes: critical, batched or all."""

    etsy_shop_id: int | None = None
    kind: Literal["critical", "batched", "all"] = "all"


@dg.asset(
    name="etsy_push",
    group_name="push",
    pool="etsy_api",
    kinds={"python"},
    description="Local changes pushed to Etsy (core.pending_changes): confirmed, conflict, retry or failed.",
)
def etsy_push(
    context: dg.AssetExecutionContext, config: PushConfig, storage: StorageResource
) -> dg.MaterializeResult[None]:
    shops = [config.etsy_shop_id] if config.etsy_shop_id is not None else None
    with storage.open() as runtime:
        access = build_access(runtime.settings, runtime.repos.tokens)
        try:
            summary = push_due(runtime, access, shops, entity_types=KINDS[config.kind])
        finally:
            access.close()
    if summary.stopped:
        context.log.warning(f"push stopped early: {summary.stopped}; the next run resumes")
    for error in summary.errors[:20]:
        context.log.info(f"change not confirmed: {error}")
    return dg.MaterializeResult(metadata={**summary.as_metadata(), "kind": config.kind})


@dg.asset_check(asset=etsy_push, name="push_outbox_needs_nobody", blocking=False)
def push_outbox_needs_nobody(storage: StorageResource) -> dg.AssetCheckResult:
    """Warns when a change is dead-lettered (`failed`) or has waited for Etsy for more than an hour."""
    with storage.open() as runtime:
        health = outbox_health(runtime.db)
    return dg.AssetCheckResult(
        passed=health.failed == 0 and health.stale == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"failed": health.failed, "pending_over_an_hour": health.stale},
        description="see `etsy-pipeline push status`; `etsy-pipeline push retry --failed` sends failed ones again",
    )
