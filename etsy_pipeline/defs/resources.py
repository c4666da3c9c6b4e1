"""Resources shared by every slice of the code location.

Configuration still enters through `Settings` (environment variables), read when a run starts rather than at
import time, so loading the code location never touches the environment or a database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from etsy_pipeline.runtime import Runtime, open_runtime
from etsy_pipeline.settings import get_settings

# Databases this process has brought to the migration head: a sensor ticking every 30 s, or a run's checks, must
# not run Alembic each time they open storage (the `migrate_database` job always does).
_MIGRATED: set[str] = set()


class StorageResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """PostgreSQL (embedded or DATABASE_URL), the Redis cache and the repositories, opened per run.

    The schema is upgraded the first time a process opens a database, not at every open.
    """

    apply_migrations: bool = True

    @contextmanager
    def open(self) -> Iterator[Runtime]:
        settings = get_settings()
        target = str(settings.database_url or settings.data_dir.resolve())
        with open_runtime(settings, upgrade=self.apply_migrations and target not in _MIGRATED) as runtime:
            _MIGRATED.add(target)
            yield runtime


def shared_resources() -> dict[str, object]:
    return {"storage": StorageResource()}
