"""Opening the application's runtime: database (embedded or configured), schema at head, cache, repositories.

Commands, Dagster resources and tests all start from `open_runtime`, so they share one order of start-up and
one way of shutting down (the embedded server is stopped cleanly, connections are closed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from etsy_pipeline.settings import Settings
from etsy_pipeline.storage import migrate
from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    db: Database
    cache: Cache
    repos: Repositories


@contextmanager
def open_runtime(settings: Settings, *, upgrade: bool = True) -> Iterator[Runtime]:
    """Start or reach PostgreSQL, bring the schema to head (unless told not to), connect the cache."""
    db = Database.from_settings(settings)
    replica = Database.analytics_replica(settings)
    cache = Cache(settings.redis_url, retry_seconds=settings.cache_retry_seconds)
    try:
        if upgrade:
            migrate.upgrade(db.url)
        repos = Repositories.build(db, cache, settings, replica)
        yield Runtime(settings=settings, db=db, cache=cache, repos=repos)
    finally:
        cache.close()
        if replica is not None:
            replica.close()
        db.close()
