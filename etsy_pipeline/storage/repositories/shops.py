"""Shops: lookup by owner, stats from Etsy, sync status and per-shop settings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from etsy_pipeline.storage.models import Shop
from etsy_pipeline.storage.models.shops import SYNC_STATUSES
from etsy_pipeline.storage.repositories.base import (
    InvalidArgumentError,
    Repository,
    require_shop,
    to_view,
)
from etsy_pipeline.storage.repositories.views import ShopView

STAT_FIELDS = (
    "listing_active_count",
    "transaction_sold_count",
    "num_favorers",
    "review_count",
    "review_average",
)


class ShopRepository(Repository):
    def create(
        self,
        user_id: int,
        *,
        etsy_shop_id: int,
        shop_name: str,
        title: str | None = None,
        currency_code: str | None = None,
        url: str | None = None,
        etsy_user_id: int | None = None,
    ) -> ShopView:
        """Register a shop for its owner (the connect flow and the demo call this)."""
        with self.db.session() as session:
            shop = Shop(
                user_id=user_id,
                etsy_shop_id=etsy_shop_id,
                shop_name=shop_name,
                title=title,
                currency_code=currency_code,
                url=url,
                etsy_user_id=etsy_user_id,
            )
            session.add(shop)
            session.flush()
            session.refresh(shop)
            view = to_view(ShopView, shop)
        self.cache.invalidate_user(user_id)
        return view

    def find_by_user_id(self, user_id: int) -> list[ShopView]:
        """Every shop the user owns, by name."""

        def load() -> list[ShopView]:
            with self.db.session() as session:
                shops = session.scalars(select(Shop).where(Shop.user_id == user_id).order_by(Shop.shop_name, Shop.id))
                return [to_view(ShopView, s) for s in shops]

        return self.cache.get_or_load(user_id=user_id, shop_id=None, name="shops", ttl=self.ttls.shop, loader=load)

    def get(self, user_id: int, shop_id: int) -> ShopView:
        """One shop of the user; NotFoundError if it does not exist or is someone else's."""

        def load() -> ShopView:
            with self.db.session() as session:
                return to_view(ShopView, require_shop(session, user_id, shop_id))

        return self.cache.get_or_load(user_id=user_id, shop_id=shop_id, name="shop", ttl=self.ttls.shop, loader=load)

    def get_by_etsy_id(self, user_id: int, etsy_shop_id: int) -> ShopView | None:
        with self.db.session() as session:
            shop = session.scalars(
                select(Shop).where(Shop.etsy_shop_id == etsy_shop_id, Shop.user_id == user_id)
            ).one_or_none()
            return None if shop is None else to_view(ShopView, shop)

    def update_stats(self, user_id: int, shop_id: int, **stats: int | Decimal | None) -> ShopView:
        """Store the counters Etsy reports for a shop (listing, sales, favorer and review counts)."""
        unknown = sorted(set(stats) - set(STAT_FIELDS))
        if unknown:
            raise InvalidArgumentError(f"unknown shop stat(s) {unknown}; expected some of {list(STAT_FIELDS)}")
        for name, value in stats.items():
            if value is not None and value < 0:
                raise InvalidArgumentError(f"shop stat {name} must not be negative, got {value!r}")
        return self._update(user_id, shop_id, stats)

    def set_sync_status(self, user_id: int, shop_id: int, status: str, *, error: str | None = None) -> ShopView:
        """Record where the shop's sync stands; a success stamps `last_synced_at`."""
        if status not in SYNC_STATUSES:
            raise InvalidArgumentError(f"sync status must be one of {list(SYNC_STATUSES)}, got {status!r}")
        values: dict[str, Any] = {"sync_status": status, "last_sync_error": error}
        if status == "ok":
            values["last_synced_at"] = datetime.now(UTC)
        return self._update(user_id, shop_id, values)

    def set_low_stock_threshold(self, user_id: int, shop_id: int, threshold: int | None) -> ShopView:
        if threshold is not None and threshold < 0:
            raise InvalidArgumentError(f"low_stock_threshold must be >= 0, got {threshold!r}")
        return self._update(user_id, shop_id, {"low_stock_threshold": threshold})

    def _update(self, user_id: int, shop_id: int, values: dict[str, Any]) -> ShopView:
        with self.db.session() as session:
            shop = require_shop(session, user_id, shop_id)
            for name, value in values.items():
                setattr(shop, name, value)
            session.flush()
            session.refresh(shop)
            view = to_view(ShopView, shop)
        self.cache.invalidate_shop(shop_id, user_id)
        return view
