"""Shared fixtures: a throwaway PostgreSQL database at migration head, a namespaced Redis cache, settings.

Everything runs against the machine's real PostgreSQL and Redis (see scripts/ensure_services.py). The suite
creates its own database, named after the process, and drops it at the end; Redis keys live under a
namespace unique to the run, so nothing shared is flushed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from etsy_pipeline.settings import Settings, load_settings
from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.crypto import generate_key
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline_tests.support.databases import create_database, drop_database, truncate_owned_tables

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    name = f"etsy_pipeline_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = create_database(name)
    migrate.upgrade(url)
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def encryption_key() -> str:
    return generate_key()


@pytest.fixture
def settings(database_url: str, encryption_key: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=database_url,
        redis_url=REDIS_URL,
        token_encryption_key=encryption_key,
        data_dir=tmp_path / "data",
        _env_file=None,
    )


@pytest.fixture(scope="session")
def session_db(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    yield db
    db.close()


@pytest.fixture
def db(session_db: Database) -> Iterator[Database]:
    """The test database, emptied after each test (repositories commit, so rollback would not do)."""
    yield session_db
    truncate_owned_tables(session_db.engine)
    with session_db.engine.begin() as conn:  # dlt's schemas too: a test's raw rows never meet the next test
        conn.execute(text("DROP SCHEMA IF EXISTS etsy_raw, etsy_raw_staging CASCADE"))


@pytest.fixture
def cache() -> Iterator[Cache]:
    cache = Cache(REDIS_URL, namespace=f"etsy-pipeline-test:{uuid.uuid4().hex}")
    yield cache
    cache.close()


@pytest.fixture
def repos(db: Database, cache: Cache, settings: Settings) -> Repositories:
    return Repositories.build(db, cache, settings)


@pytest.fixture
def fresh_database_url() -> Iterator[str]:
    """An empty database of its own, for tests that migrate up and down."""
    name = f"etsy_pipeline_fresh_{uuid.uuid4().hex[:10]}"
    url = create_database(name)
    yield url
    drop_database(name)
