"""What the Dagster catalog shows about a PostgreSQL table: its name, and its columns with their descriptions.

The descriptions are the models' `comment=` texts, the same ones the migrations write as `COMMENT ON`, so the UI
and `\\d+` in psql say the same thing and neither copy can drift. Read at definition time from the models, so
the catalog shows them before the first materialization and without a database.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from sqlalchemy.dialects import postgresql

import etsy_pipeline.storage.models  # noqa: F401  (every model registered on Base.metadata)
from etsy_pipeline.storage.base import Base

TABLE_NAME = "dagster/table_name"
COLUMN_SCHEMA = "dagster/column_schema"
ROW_COUNT = "dagster/row_count"


def table_metadata(qualified_name: str) -> dict[str, Any]:
    """`dagster/table_name` and `dagster/column_schema` of a model's table, e.g. `analytics.customers`."""
    table = Base.metadata.tables[qualified_name]
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    columns = [
        dg.TableColumn(
            name=column.name,
            type=column.type.compile(dialect=dialect),
            description=column.comment,
            constraints=dg.TableColumnConstraints(nullable=bool(column.nullable)),
        )
        for column in table.columns
    ]
    return {TABLE_NAME: qualified_name, COLUMN_SCHEMA: dg.TableSchema(columns=columns)}
