"""What every repository shares: the database, the cache, TTLs, user scoping and row-to-view conversion.

Scoping rule: every method that returns shop data takes the acting user's id and only sees shops whose
`user_id` is that user. A shop that exists but belongs to someone else is reported exactly like a shop that
does not exist, so callers cannot probe for other users' shops.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.base import Base
from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Shop

V = TypeVar("V")


class NotFoundError(LookupError):
    """The entity does not exist for this user (or at all: the two are deliberately indistinguishable)."""


class InvalidArgumentError(ValueError):
    """A repository argument is out of range; the message names the argument and its value."""


@dataclass(frozen=True)
class CacheTTLs:
    shop: int = 300
    listing: int = 300
    orders: int = 60
    analytics: int = 3600

    @classmethod
    def from_settings(cls, settings: Settings) -> CacheTTLs:
        return cls(
            shop=settings.cache_ttl_shop_seconds,
            listing=settings.cache_ttl_listing_seconds,
            orders=settings.cache_ttl_orders_seconds,
            analytics=settings.cache_ttl_analytics_seconds,
        )


class Repository:
    """Base class: holds the database, the cache and the TTLs."""

    def __init__(self, db: Database, cache: Cache, ttls: CacheTTLs | None = None) -> None:
        self.db = db
        self.cache = cache
        self.ttls = ttls or CacheTTLs()


def owned_shop(user_id: int, shop_id: int) -> Select[Shop]:
    """SELECT of one shop, only if the acting user owns it."""
    return select(Shop).where(Shop.id == shop_id, Shop.user_id == user_id)


def require_shop(session: Session, user_id: int, shop_id: int) -> Shop:
    shop = session.scalars(owned_shop(user_id, shop_id)).one_or_none()
    if shop is None:
        raise NotFoundError(f"shop {shop_id} not found for user {user_id}")
    return shop


M = TypeVar("M", bound=Base)


def lock_owned(
    session: Session, model: type[M], etsy_id: InstrumentedAttribute[int], value: int, label: str, user_id: int
) -> M:
    """The row of `model` with Etsy id `value` in one of the user's shops, locked FOR UPDATE until the
    transaction ends: the producers of pending changes read, compare and queue under this lock, so two edits
    of one object never both take the same base. Another user's row is reported like a missing one."""
    row = session.scalars(
        select(model)
        .join(Shop, Shop.id == model.shop_id)  # type: ignore[attr-defined]
        .where(etsy_id == value, Shop.user_id == user_id)
        .with_for_update(of=model)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"{label} {value} not found")
    return row


def to_view(view: type[V], row: Any, **overrides: Any) -> V:
    """Build a view dataclass from an ORM object or a row mapping, field by field."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(view):  # type: ignore[arg-type]
        if field.name in overrides:
            values[field.name] = overrides[field.name]
        elif isinstance(row, dict):
            values[field.name] = row[field.name]
        else:
            values[field.name] = getattr(row, field.name)
    return view(**values)


def check_limit(limit: int, maximum: int = 1000) -> int:
    if not 1 <= limit <= maximum:
        raise InvalidArgumentError(f"limit must be between 1 and {maximum}, got {limit!r}")
    return limit
