"""Database health as an hourly asset: the figures of `etsy-pipeline health` as metadata, one WARN check each.

The checks never fail the run: a slow query or a lagging shop is something to look at, not a reason to stop.
"""

import json
from typing import Any

import dagster as dg

from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.ops import health

SPECS = [dg.AssetCheckSpec(name, asset=dg.AssetKey(["ops", "db_health"])) for name in health.CHECKS]


def _plain(figures: dict[str, Any]) -> Any:
    return json.loads(json.dumps(figures, default=str))  # datetimes and decimals as text


@dg.asset(
    key=["ops", "db_health"],
    group_name="ops",
    kinds={"postgres"},
    check_specs=SPECS,
    description="Slow queries, connections, table and index sizes with growth, index use, cache hit ratios, "
    "Etsy quota, sync lag per shop and push backlog (monitoring.table_sizes keeps the size history).",
)
def db_health(storage: StorageResource) -> dg.MaterializeResult:  # type: ignore[type-arg]  # Dagster reads the bare class
    with storage.open() as runtime:
        report = health.collect(runtime.db, runtime.settings)
    results = [
        dg.AssetCheckResult(
            check_name=name,
            passed=not check.warnings,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"warnings": "; ".join(check.warnings) or "none", "figures": _plain(check.figures)},
        )
        for name, check in report.checks.items()
    ]
    summary = report.as_json()
    return dg.MaterializeResult(
        metadata={"status": summary["status"], "warnings": len(report.warnings), "checked_at": summary["checked_at"]},
        check_results=results,
    )
