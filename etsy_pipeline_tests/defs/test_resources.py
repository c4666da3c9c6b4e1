"""Storage opened by sensors and checks does not run Alembic every time; the migrate job always does."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from etsy_pipeline.defs import resources
from etsy_pipeline.defs.ops.jobs import migrate_database
from etsy_pipeline.defs.resources import StorageResource
from etsy_pipeline.settings import get_settings
from etsy_pipeline.storage import migrate


def test_a_process_migrates_a_database_once_and_the_job_always(
    fresh_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    resources._MIGRATED.clear()
    try:
        storage = StorageResource()
        with storage.open():
            pass
        assert migrate.current(fresh_database_url) == migrate.head()  # the first open upgrades
        migrate.downgrade(fresh_database_url, "0004")
        with storage.open():  # a later open (a sensor tick, a check) leaves the schema alone
            pass
        assert migrate.current(fresh_database_url) == "0004"
        result = migrate_database.execute_in_process(resources={"storage": StorageResource()})
        assert result.success
        assert migrate.current(fresh_database_url) == migrate.head()
    finally:
        resources._MIGRATED.clear()
        get_settings.cache_clear()


def test_the_job_is_in_the_code_location() -> None:
    from etsy_pipeline.definitions import defs

    assert isinstance(defs.get_job_def("migrate_database"), dg.JobDefinition)
