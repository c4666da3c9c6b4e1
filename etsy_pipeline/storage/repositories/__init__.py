"""Repositories: the typed, user-scoped, cached way the application reads and writes `core` and `analytics`."""

from __future__ import annotations

from dataclasses import dataclass

from etsy_pipeline.settings import Settings
from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.crypto import cipher_from_settings
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories.analytics import AnalyticsRepository
from etsy_pipeline.storage.repositories.base import CacheTTLs, InvalidArgumentError, NotFoundError
from etsy_pipeline.storage.repositories.customers import CustomerRepository
from etsy_pipeline.storage.repositories.inventory import InventoryRepository
from etsy_pipeline.storage.repositories.listings import ListingRepository
from etsy_pipeline.storage.repositories.orders import OrderRepository
from etsy_pipeline.storage.repositories.shops import ShopRepository
from etsy_pipeline.storage.repositories.users import TokenRepository, UserRepository

__all__ = [
    "AnalyticsRepository",
    "CacheTTLs",
    "CustomerRepository",
    "InvalidArgumentError",
    "InventoryRepository",
    "ListingRepository",
    "NotFoundError",
    "OrderRepository",
    "Repositories",
    "ShopRepository",
    "TokenRepository",
    "UserRepository",
]


@dataclass(frozen=True)
class Repositories:
    """Every repository over one database and one cache."""

    users: UserRepository
    tokens: TokenRepository
    shops: ShopRepository
    listings: ListingRepository
    inventory: InventoryRepository
    orders: OrderRepository
    customers: CustomerRepository
    analytics: AnalyticsRepository

    @classmethod
    def build(cls, db: Database, cache: Cache, settings: Settings, replica: Database | None = None) -> Repositories:
        """`replica`: where analyst reads go (ANALYTICS_DATABASE_URL); everything else stays on `db`."""
        ttls = CacheTTLs.from_settings(settings)
        cipher = cipher_from_settings(
            settings.token_encryption_key.get_secret_value() if settings.token_encryption_key else None,
            settings.data_dir,
        )
        return cls(
            users=UserRepository(db),
            tokens=TokenRepository(db, cipher),
            shops=ShopRepository(db, cache, ttls),
            listings=ListingRepository(db, cache, ttls, low_stock_threshold=settings.low_stock_threshold),
            inventory=InventoryRepository(db, cache, ttls),
            orders=OrderRepository(db, cache, ttls),
            customers=CustomerRepository(db, cache, ttls),
            analytics=AnalyticsRepository(replica or db, cache, ttls),
        )
