"""The daily backup as an asset: dump, verify by restoring into a throwaway database, prune old backups.

A backup nobody has restored is a hope, not a backup: the run fails unless the new dump restores with every
table's checksum equal to its manifest. `backup_is_recent` fails when the newest verified backup is older than
26 hours (a day plus slack for a slow run), whatever the reason: a stopped schedule, a failing dump, a full disk.
"""

from datetime import UTC, datetime, timedelta

import dagster as dg

from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.ops import backup
from etsy_pipeline.ops.commands import backup_dir
from etsy_pipeline.settings import get_settings

MAX_AGE = timedelta(hours=26)


@dg.asset(
    key=["ops", "database_backup"],
    group_name="ops",
    kinds={"postgres"},
    description="A verified pg_dump of the pipeline database with its checksum manifest (BACKUP_DIR).",
)
def database_backup(context: dg.AssetExecutionContext, storage: StorageResource) -> dg.MaterializeResult[None]:
    with storage.open() as runtime:
        directory = backup_dir(runtime.settings)
        made = backup.create_backup(runtime.db, directory)
        verified = backup.verify(made.path, runtime.db)
        removed = backup.prune(directory, runtime.settings.backup_keep_days)
    context.log.info(f"backup {made.path.name} verified; {backup.KEY_NOTE}")
    return dg.MaterializeResult(
        metadata={
            "file": made.path.name,
            "size_bytes": made.manifest["bytes"],
            "duration_seconds": round(made.seconds, 2),
            "tables": verified.tables,
            "rows": verified.rows,
            "schema_revision": made.manifest["schema_revision"] or "",
            "sha256": made.manifest["sha256"],
            "removed_old_backups": len(removed),
        }
    )


@dg.asset_check(asset=database_backup, name="backup_is_recent", blocking=False)
def backup_is_recent() -> dg.AssetCheckResult:
    """Fails when no backup made in the last 26 hours has passed verification."""
    made = backup.last_verified(backup_dir(get_settings()))
    age = datetime.now(UTC) - made if made else None
    return dg.AssetCheckResult(
        passed=age is not None and age <= MAX_AGE,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "last_verified_backup": made.isoformat() if made else "none",
            "age_hours": round(age.total_seconds() / 3600, 2) if age else -1,
        },
        description="run the backup_database job (or `etsy-pipeline backup` then `backup verify`)",
    )
