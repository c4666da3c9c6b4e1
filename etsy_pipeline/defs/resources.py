"""Resources shared by every slice of the code location.

Configuration still enters through `Settings` (environment variables), read when a run starts rather than at
import time, so loading the code location never touches the environment or a database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from sqlalchemy import text

from etsy_pipeline.runtime import Runtime, open_runtime
from etsy_pipeline.settings import get_settings


class StorageResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """PostgreSQL (embedded or DATABASE_URL), the Redis cache and the repositories, opened per run."""

    apply_migrations: bool = True

    @contextmanager
    def open(self) -> Iterator[Runtime]:
        with open_runtime(get_settings(), upgrade=self.apply_migrations) as runtime:
            yield runtime


def scalar(storage: StorageResource, sql: str) -> int:
    """One number from the database, for asset checks (`:tz` is the analytics time zone)."""
    with storage.open() as runtime, runtime.db.engine.connect() as conn:
        return int(conn.execute(text(sql), {"tz": runtime.settings.analytics_timezone}).scalar() or 0)


def shared_resources() -> dict[str, object]:
    return {"storage": StorageResource()}
