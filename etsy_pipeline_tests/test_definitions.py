from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster import DagsterInvalidConfigError
from sqlalchemy.engine import make_url

from etsy_pipeline.settings import get_settings
from etsy_pipeline.storage import migrate

ROOT = Path(__file__).resolve().parents[1]


def test_code_location_loads_with_its_jobs_and_resources() -> None:
    from etsy_pipeline.definitions import defs

    repository = defs.get_repository_def()
    assert {job.name for job in repository.get_all_jobs()} >= {"migrate_database"}
    assert "storage" in repository.get_top_level_resources()


def test_dagster_validates_the_code_location(tmp_path: Path) -> None:
    """`dagster definitions validate` is what an operator runs: it loads the location and checks every
    partition mapping (the daily analytics over the shop-partitioned core tables among them)."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    validation = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "etsy_pipeline.definitions"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert validation.returncode == 0, validation.stdout[-3000:]
    assert "All code locations passed validation" in validation.stdout


def test_dagster_yaml_loads_as_an_instance_on_postgres(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_url(fresh_database_url)  # an empty database of its own, as Dagster gets in production
    monkeypatch.setenv("DAGSTER_PG_HOST", url.host or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(url.port or 5432))
    monkeypatch.setenv("DAGSTER_PG_USER", url.username or "postgres")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", "")
    monkeypatch.setenv("DAGSTER_PG_DB", url.database or "")
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.get_runs() == []
        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.default_pool_limit == 2
        # one run per shop partition (and per analytics day) at a time; Dagster validated the shape on load
        assert concurrency.run_queue_config is not None
        assert concurrency.run_queue_config.tag_concurrency_limits == [
            {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]
    misspelt = (ROOT / "dagster.yaml").read_text().replace("applyLimitPerUniqueValue", "applyToUniqueValues")
    (tmp_path / "dagster.yaml").write_text(misspelt)
    with pytest.raises(DagsterInvalidConfigError, match="applyToUniqueValues"):  # the schema is really checked
        dg.DagsterInstance.from_config(str(tmp_path))


def test_migrate_job_runs_against_the_configured_database(
    fresh_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from etsy_pipeline.definitions import defs

    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = defs.resolve_job_def("migrate_database").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    finally:
        get_settings.cache_clear()
    assert result.success
    assert migrate.current(fresh_database_url) == migrate.head()
