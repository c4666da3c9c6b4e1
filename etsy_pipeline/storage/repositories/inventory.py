"""Inventory per product offering, and local stock edits that go to Etsy through the outbox.

`set_quantity` is the outbox pattern: the local row and the `pending_changes` row are written in one
transaction, so a change is never applied locally without being queued for Etsy, nor queued without being
applied. The change records the listing's Etsy `updated_timestamp` so the push can detect that Etsy moved on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import Row, Select, func, select, update

from etsy_pipeline.storage.models import Inventory, Listing, PendingChange, Shop
from etsy_pipeline.storage.models.ops import PRIORITY_CRITICAL
from etsy_pipeline.storage.repositories.base import (
    InvalidArgumentError,
    NotFoundError,
    Repository,
    to_view,
)
from etsy_pipeline.storage.repositories.views import InventoryView, PendingChangeView

MAX_QUANTITY = 999  # Etsy's per-offering ceiling


def offering_query() -> Select[Inventory, int, str]:
    """Offerings with the Etsy id and title of their listing (what `InventoryView` shows)."""
    return select(Inventory, Listing.etsy_listing_id, Listing.title.label("listing_title")).join(
        Listing, Listing.id == Inventory.listing_id
    )


def offering_views(rows: Iterable[Row[Inventory, int, str]]) -> list[InventoryView]:
    return [
        to_view(InventoryView, r[0], etsy_listing_id=r.etsy_listing_id, listing_title=r.listing_title) for r in rows
    ]


class InventoryRepository(Repository):
    def by_listing(self, user_id: int, listing_id: int) -> list[InventoryView]:
        """Every offering of one of the user's listings, deleted ones excluded."""
        shop_id = self._shop_of_listing(user_id, listing_id)
        if shop_id is None:
            raise NotFoundError(f"listing {listing_id} not found for user {user_id}")

        def load() -> list[InventoryView]:
            with self.db.session() as session:
                return offering_views(
                    session.execute(
                        offering_query()
                        .where(Listing.id == listing_id, Inventory.is_deleted.is_(False))
                        .order_by(Inventory.variation_key, Inventory.id)
                    )
                )

        return self.cache.get_or_load(
            user_id=user_id,
            shop_id=shop_id,
            name=f"inventory:{listing_id}",
            ttl=self.ttls.listing,
            loader=load,
        )

    def set_quantity(self, user_id: int, inventory_id: int, quantity: int) -> PendingChangeView:
        """Set an offering's stock locally and queue the change for Etsy, atomically."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
            raise InvalidArgumentError(f"quantity must be an integer from 0 to {MAX_QUANTITY}, got {quantity!r}")
        with self.db.session() as session:
            row = session.execute(
                select(Inventory, Listing)
                .join(Listing, Listing.id == Inventory.listing_id)
                .join(Shop, Shop.id == Inventory.shop_id)
                .where(Inventory.id == inventory_id, Shop.user_id == user_id)
                .with_for_update(of=Inventory)
            ).one_or_none()
            if row is None:
                raise NotFoundError(f"inventory row {inventory_id} not found for user {user_id}")
            item, listing = row.Inventory, row.Listing
            previous = item.quantity
            item.quantity = quantity
            session.flush()
            # A listing's quantity is the sum of its enabled offerings, as Etsy reports it.
            session.execute(
                update(Listing)
                .where(Listing.id == listing.id)
                .values(
                    quantity=select(func.coalesce(func.sum(Inventory.quantity), 0))
                    .where(
                        Inventory.listing_id == listing.id,
                        Inventory.is_enabled.is_(True),
                        Inventory.is_deleted.is_(False),
                    )
                    .scalar_subquery()
                )
            )
            change = PendingChange(
                shop_id=item.shop_id,
                created_by_user_id=user_id,
                entity_type="inventory",
                entity_id=listing.etsy_listing_id,
                change_type="inventory_quantity",
                payload={
                    "listing_id": listing.etsy_listing_id,
                    "variation_key": item.variation_key,
                    "sku": item.sku,
                    "quantity": quantity,
                    "previous_quantity": previous,
                },
                base_updated_timestamp=listing.etsy_updated_timestamp,
                priority=PRIORITY_CRITICAL,
                idempotency_key=f"inventory:{uuid.uuid4()}",
            )
            session.add(change)
            session.flush()
            view = to_view(PendingChangeView, change)
            shop_id = item.shop_id
        self.cache.invalidate_shop(shop_id, user_id)
        return view

    def _shop_of_listing(self, user_id: int, listing_id: int) -> int | None:
        with self.db.session() as session:
            return session.scalar(
                select(Listing.shop_id)
                .join(Shop, Shop.id == Listing.shop_id)
                .where(Listing.id == listing_id, Shop.user_id == user_id)
            )
