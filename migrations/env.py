"""Alembic environment: the application's metadata, limited to the schemas the application owns.

The URL is handed in by `etsy_pipeline.storage.migrate` (config attribute `url`). Objects outside `core` and
`analytics` (dlt's `etsy_raw`, anything in `public`) and the month partitions of `shop_daily_metrics`, which are
created at run time, are ignored so `alembic check` compares only what migrations own.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine, pool

from etsy_pipeline.storage.base import OWNED_SCHEMAS, Base
from etsy_pipeline.storage.models import analytics as analytics_models


def include_name(name: str | None, type_: Any, parent_names: Any) -> bool:
    if type_ == "schema":
        return name in OWNED_SCHEMAS
    is_partition = type_ == "table" and bool(name) and str(name).startswith(analytics_models.PARTITION_PREFIX)
    return not is_partition


def run_migrations() -> None:
    url = context.config.attributes.get("url") or context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL: run migrations through `etsy-pipeline db ...`")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_schemas=True,
        include_name=include_name,
        compare_type=True,
        compare_server_default=False,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()


run_migrations()
