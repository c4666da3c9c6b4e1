"""The operations slice: the schema job, the verified daily backup and the hourly database health.

`backup_daily` (03:00) and `db_health_hourly` start RUNNING unless the deployment's `Automation` names them.
"""

import dagster as dg

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.ops.backup import backup_is_recent, database_backup
from etsy_pipeline.defs.ops.health import db_health
from etsy_pipeline.defs.ops.jobs import migrate_database

BACKUP_DAILY = "backup_daily"
HEALTH_HOURLY = "db_health_hourly"


def build_defs(automation: Automation) -> dg.Definitions:
    backup_job = dg.define_asset_job(
        "backup_database",
        selection=dg.AssetSelection.assets(database_backup),
        description="Dump the database, verify the dump by restoring it, prune backups past BACKUP_KEEP_DAYS.",
    )
    health_job = dg.define_asset_job("db_health_check", selection=dg.AssetSelection.assets(db_health))
    schedules = [
        dg.ScheduleDefinition(
            name=BACKUP_DAILY,
            cron_schedule="0 3 * * *",
            job=backup_job,
            default_status=automation.schedule(BACKUP_DAILY),
        ),
        dg.ScheduleDefinition(
            name=HEALTH_HOURLY,
            cron_schedule="5 * * * *",
            job=health_job,
            default_status=automation.schedule(HEALTH_HOURLY),
        ),
    ]
    return dg.Definitions(
        assets=[database_backup, db_health],
        asset_checks=[backup_is_recent],
        jobs=[migrate_database, backup_job, health_job],
        schedules=schedules,
    )
