"""Fixtures for the Dagster wiring tests: the synced installation, its environment, a test instance."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest

from etsy_pipeline.settings import get_settings
from etsy_pipeline_tests.sync.conftest import Installation, tiny

__all__ = ["configured", "instance", "tiny"]


@pytest.fixture
def configured(tiny: Installation, monkeypatch: pytest.MonkeyPatch) -> Iterator[Installation]:
    """The environment a Dagster deployment would have, pointing at the test database and the emulator."""
    s = tiny.runtime.settings
    secrets = {
        "ETSY_API_KEYSTRING": s.etsy_api_keystring,
        "ETSY_SHARED_SECRET": s.etsy_shared_secret,
        "TOKEN_ENCRYPTION_KEY": s.token_encryption_key,
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value.get_secret_value() if value else "")
    for name, plain in {
        "DATABASE_URL": tiny.runtime.db.url,
        "REDIS_URL": s.redis_url or "",
        "ETSY_BASE_URL": s.etsy_base_url,
        "DATA_DIR": str(s.data_dir),
        "ETSY_QPS": "0",
        "ETSY_QPD": "0",
    }.items():
        monkeypatch.setenv(name, plain)
    get_settings.cache_clear()
    yield tiny
    get_settings.cache_clear()


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance
