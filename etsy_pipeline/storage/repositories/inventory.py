"""Inventory per product offering, and local stock edits that go to Etsy through the outbox.

`set_quantity` and `edit_offerings` are the outbox pattern: the local row and the `pending_changes` row are
written in one transaction, so a change is never applied locally without being queued for Etsy, nor queued
without being applied. Each change records the base values and the listing's Etsy `updated_timestamp` so the
push can detect that Etsy moved on (see `offering_edits`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Row, Select, select

from etsy_pipeline.storage.models import Inventory, Listing, Shop
from etsy_pipeline.storage.repositories.base import (
    InvalidArgumentError,
    NotFoundError,
    Repository,
    to_view,
)
from etsy_pipeline.storage.repositories.offering_edits import (
    OfferingEdit,
    apply_offering_edits,
    check_quantity,
    plan_offering_edits,
)
from etsy_pipeline.storage.repositories.views import InventoryView, PendingChangeView


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
        check_quantity(quantity)
        with self.db.session() as session:
            found = session.execute(
                select(Listing.etsy_listing_id, Inventory.variation_key)
                .join(Listing, Listing.id == Inventory.listing_id)
                .join(Shop, Shop.id == Inventory.shop_id)
                .where(Inventory.id == inventory_id, Shop.user_id == user_id)
            ).one_or_none()
        if found is None:
            raise NotFoundError(f"inventory row {inventory_id} not found for user {user_id}")
        edit = OfferingEdit(found.etsy_listing_id, variation_key=found.variation_key, quantity=quantity)
        return self.edit_offerings(user_id, [edit])[0]

    def edit_offerings(
        self, user_id: int, edits: Sequence[OfferingEdit], *, errors: Sequence[str] = ()
    ) -> list[PendingChangeView]:
        """Apply offering edits (set or adjust quantity, set price) and queue them for Etsy in ONE transaction.

        Every problem is collected (with the edit's line number when it has one) and reported together; when
        there is any, including `errors` found earlier by the caller (a stocktake file's parse errors), nothing
        is applied.
        """
        problems = list(errors)
        for edit in edits:
            problems.extend(edit.problems())
        with self.db.session() as session:
            planned = plan_offering_edits(session, user_id, edits, problems)
            if problems:
                raise InvalidArgumentError("; ".join(problems))
            views = apply_offering_edits(session, user_id, planned)
            shops = {v.shop_id for v in views}
        for shop_id in shops:
            self.cache.invalidate_shop(shop_id, user_id)
        return views

    def _shop_of_listing(self, user_id: int, listing_id: int) -> int | None:
        with self.db.session() as session:
            return session.scalar(
                select(Listing.shop_id)
                .join(Shop, Shop.id == Listing.shop_id)
                .where(Listing.id == listing_id, Shop.user_id == user_id)
            )
