"""The one declarative base and metadata for the schemas the application owns (`core`, `analytics`).

Constraint names follow a fixed convention so Alembic migrations and the models always agree on them.
`etsy_raw` belongs to dlt and Dagster's tables live in their own database: neither is described here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, MetaData, Numeric, Table, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

CORE = "core"
ANALYTICS = "analytics"
OWNED_SCHEMAS = (CORE, ANALYTICS)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        int: BigInteger(),
        datetime: DateTime(timezone=True),
        Decimal: Numeric(),
        dict[str, Any]: JSONB(),
    }


class Timestamps:
    """Row bookkeeping columns (database time, not Etsy's)."""

    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


def table_of(model: type[Base]) -> Table:
    """The Core `Table` of a mapped class, typed (for bulk loads and SQL built outside the ORM)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table


def id_column() -> Mapped[int]:
    """Surrogate bigint identity key; Etsy IDs are kept in their own unique columns."""
    return mapped_column(BigInteger, Identity(), primary_key=True)
