"""The operations slice: the backup schedule and the db_health asset load (and run by default), the daily backup
run verifies its dump and reports it, and the freshness check fails once the last verified backup is too old."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import create_engine, pool, text

from etsy_pipeline.defs.automation import Automation
from etsy_pipeline.defs.ops.backup import backup_is_recent, database_backup
from etsy_pipeline.defs.ops.definitions import build_defs
from etsy_pipeline.defs.ops.health import db_health
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.ops import backup
from etsy_pipeline.ops.health import CHECKS
from etsy_pipeline.settings import get_settings
from etsy_pipeline.storage.database import Database
from etsy_pipeline_tests.sync.conftest import Installation

# Tables that hold rows: pg_tables lists partitioned parents too, whose rows live in their partitions.
ORDINARY_TABLES = """
SELECT count(*) FROM pg_tables t WHERE t.schemaname NOT IN ({skip}) AND NOT EXISTS (
    SELECT 1 FROM pg_partitioned_table p WHERE p.partrelid = format('%I.%I', t.schemaname, t.tablename)::regclass)
"""


def test_the_slice_loads_in_the_code_location_with_its_schedules_running() -> None:
    from etsy_pipeline.definitions import defs

    repository = defs.get_repository_def()
    assert {"backup_database", "db_health_check", "migrate_database"} <= {j.name for j in repository.get_all_jobs()}
    schedules = {s.name: s for s in repository.schedule_defs}
    assert schedules["backup_daily"].cron_schedule == "0 3 * * *"
    assert schedules["db_health_hourly"].cron_schedule == "5 * * * *"
    graph = defs.resolve_asset_graph()
    assert {dg.AssetKey(["ops", "db_health"]), dg.AssetKey(["ops", "database_backup"])} <= set(
        graph.get_all_asset_keys()
    )
    checks = {key.name for key in graph.asset_check_keys}
    assert {"backup_is_recent", *CHECKS} <= checks


def test_schedules_start_running_unless_automation_stops_them() -> None:
    running = {s.name: s.default_status for s in build_defs(Automation()).schedules or []}
    assert running == {
        "backup_daily": dg.DefaultScheduleStatus.RUNNING,
        "db_health_hourly": dg.DefaultScheduleStatus.RUNNING,
    }
    stopped = {s.name: s.default_status for s in build_defs(Automation.parse("backup_daily")).schedules or []}
    assert stopped["backup_daily"] == dg.DefaultScheduleStatus.STOPPED
    assert stopped["db_health_hourly"] == dg.DefaultScheduleStatus.RUNNING


@pytest.fixture
def deployment(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The environment a deployment gives the code location: the test database, backups under tmp_path."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "backups"
    get_settings.cache_clear()


def test_the_daily_backup_run_verifies_the_new_backup_and_reports_it(
    deployment: Path, db: Database, instance: dg.DagsterInstance
) -> None:
    result = dg.materialize(
        [database_backup, backup_is_recent], instance=instance, resources={"storage": StorageResource()}
    )
    assert result.success
    [materialization] = result.asset_materializations_for_node("ops__database_backup")
    metadata = {k: v.value for k, v in materialization.metadata.items()}
    [dump] = sorted(deployment.glob("*.dump"))
    assert metadata["size_bytes"] == dump.stat().st_size
    assert isinstance(metadata["duration_seconds"], float) and metadata["duration_seconds"] >= 0
    engine = create_engine(db.url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        tables = conn.execute(text(ORDINARY_TABLES.format(skip="'pg_catalog', 'information_schema'"))).scalar()
    engine.dispose()
    assert metadata["tables"] == tables
    assert json.loads(backup.manifest_path(dump).read_text())["verified_at"] is not None
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == "backup_is_recent" and check.passed


def _age_backups(directory: Path, hours: float) -> None:
    for manifest in directory.glob("*.manifest.json"):
        data = json.loads(manifest.read_text())
        data["created_at"] = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
        manifest.write_text(json.dumps(data))


def _check() -> dg.AssetCheckResult:
    result = backup_is_recent()
    assert isinstance(result, dg.AssetCheckResult)
    return result


def test_the_freshness_check_fails_past_26_hours(deployment: Path, db: Database) -> None:
    made = backup.create_backup(db, deployment)
    assert not _check().passed  # made but never verified
    backup.verify(made.path, db)
    _age_backups(deployment, 25)
    assert _check().passed
    _age_backups(deployment, 27)
    late = _check()
    assert not late.passed and late.severity == dg.AssetCheckSeverity.ERROR


def test_db_health_materializes_with_one_warn_check_per_figure(
    deployment: Path, db: Database, instance: dg.DagsterInstance
) -> None:
    result = dg.materialize([db_health], instance=instance, resources={"storage": StorageResource()})
    assert result.success
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == set(CHECKS)
    assert {e.severity for e in evaluations.values()} == {dg.AssetCheckSeverity.WARN}
    # The run recorded one size sample per table (the growth history).
    with db.engine.connect() as conn:
        sampled = conn.execute(text("SELECT count(DISTINCT table_name) FROM monitoring.table_sizes")).scalar()
        skip = "'pg_catalog', 'information_schema', 'monitoring'"
        tables = conn.execute(text(ORDINARY_TABLES.format(skip=skip))).scalar()
    assert sampled == tables


def test_db_health_metadata_holds_no_buyer_data_or_token(
    configured: Installation, instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Synced shops (buyers, messages, tokens in the database), then every metadata value of the run, scanned."""
    assert {r.status for r in configured.sync_all()} == {"succeeded"}
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "backups"))
    get_settings.cache_clear()
    result = dg.materialize([db_health], instance=instance, resources={"storage": StorageResource()})
    assert result.success
    records = instance.get_records_for_run(result.run_id).records
    text_of_run = json.dumps([str(r.event_log_entry.dagster_event) for r in records if r.event_log_entry.dagster_event])
    assert "sync_lag" in text_of_run and str(configured.shops[0].etsy_shop_id) in text_of_run
    receipts = list(configured.state.world.receipts.values())
    needles = {r.address.name for r in receipts} | {r.address.first_line for r in receipts}
    needles |= {r.message_from_buyer for r in receipts if r.message_from_buyer}
    for shop in configured.shops:
        pair = configured.runtime.repos.tokens.get(shop.user_id)
        needles |= {pair.access_token, pair.refresh_token, shop.email}
    assert not [n for n in needles if n in text_of_run]
