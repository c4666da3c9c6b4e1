"""Listings: pages by shop and state (keyset, so deep pages cost the same as the first), ranked full-text
search over title, tags and description, low-stock offerings, and local listing edits queued for Etsy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from etsy_pipeline.etsy.writes import LISTING_FIELDS
from etsy_pipeline.storage.cache import Cache
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Inventory, Listing, Shop
from etsy_pipeline.storage.models.listings import LISTING_STATES
from etsy_pipeline.storage.models.ops import PRIORITY_NORMAL
from etsy_pipeline.storage.repositories.base import (
    CacheTTLs,
    InvalidArgumentError,
    Repository,
    check_limit,
    lock_owned,
    require_shop,
    to_view,
)
from etsy_pipeline.storage.repositories.changes import inherited_base, new_change, open_changes
from etsy_pipeline.storage.repositories.inventory import offering_query, offering_views
from etsy_pipeline.storage.repositories.views import InventoryView, ListingView, Page, PendingChangeView, SearchHit

DEFAULT_LOW_STOCK_THRESHOLD = 5


def parse_id_cursor(after: str | None) -> int:
    if after is None:
        return 0
    try:
        value = int(after)
    except ValueError:
        raise InvalidArgumentError(f"after must be a cursor returned by a previous page, got {after!r}") from None
    if value < 0:
        raise InvalidArgumentError(f"after must be a cursor returned by a previous page, got {after!r}")
    return value


class ListingRepository(Repository):
    def __init__(
        self,
        db: Database,
        cache: Cache,
        ttls: CacheTTLs | None = None,
        *,
        low_stock_threshold: int = DEFAULT_LOW_STOCK_THRESHOLD,
    ) -> None:
        super().__init__(db, cache, ttls)
        self.low_stock_threshold = low_stock_threshold

    def by_shop(
        self,
        user_id: int,
        shop_id: int,
        *,
        state: str | None = None,
        after: str | None = None,
        limit: int = 100,
    ) -> Page[ListingView]:
        """One page of a shop's listings (optionally of one state), in id order."""
        if state is not None and state not in LISTING_STATES:
            raise InvalidArgumentError(f"state must be one of {list(LISTING_STATES)}, got {state!r}")
        check_limit(limit)
        after_id = parse_id_cursor(after)

        def load() -> Page[ListingView]:
            with self.db.session() as session:
                require_shop(session, user_id, shop_id)
                query = select(Listing).where(Listing.shop_id == shop_id, Listing.id > after_id)
                if state is not None:
                    query = query.where(Listing.state == state)
                rows = list(session.scalars(query.order_by(Listing.id).limit(limit + 1)))
            items = [to_view(ListingView, r) for r in rows[:limit]]
            cursor = str(items[-1].id) if len(rows) > limit else None
            return Page(items=items, next_cursor=cursor)

        return self.cache.get_or_load(
            user_id=user_id,
            shop_id=shop_id,
            name=f"listings:{state or '*'}:{after_id}:{limit}",
            ttl=self.ttls.listing,
            loader=load,
        )

    def search(self, user_id: int, query: str, *, shop_id: int | None = None, limit: int = 20) -> list[SearchHit]:
        """Listings of the user's shops matching `query` (web-search syntax), best match first."""
        if not query or not query.strip():
            raise InvalidArgumentError("query must not be empty")
        if "\x00" in query:  # PostgreSQL refuses NUL in text; say so instead of failing inside the driver
            raise InvalidArgumentError("query must not contain a NUL byte")
        check_limit(limit, 100)
        tsquery = func.websearch_to_tsquery("english", query)
        rank = func.ts_rank_cd(Listing.search_vector, tsquery).label("rank")
        stmt = (
            select(Listing, rank)
            .join(Shop, Shop.id == Listing.shop_id)
            .where(Shop.user_id == user_id, Listing.search_vector.op("@@")(tsquery))
            .order_by(rank.desc(), Listing.id)
            .limit(limit)
        )
        if shop_id is not None:
            stmt = stmt.where(Listing.shop_id == shop_id)
        with self.db.session() as session:
            return [
                SearchHit(listing=to_view(ListingView, row.Listing), rank=float(row.rank))
                for row in session.execute(stmt)
            ]

    def low_stock(self, user_id: int, shop_id: int, *, threshold: int | None = None) -> list[InventoryView]:
        """Enabled offerings of active listings at or below the threshold (argument, shop setting, default)."""
        if threshold is not None and threshold < 0:
            raise InvalidArgumentError(f"threshold must be >= 0, got {threshold!r}")
        with self.db.session() as session:
            shop = require_shop(session, user_id, shop_id)
            limit = threshold
            if limit is None:
                limit = shop.low_stock_threshold
            if limit is None:
                limit = self.low_stock_threshold
            return offering_views(
                session.execute(
                    offering_query()
                    .where(
                        Listing.state == "active",
                        Inventory.shop_id == shop_id,
                        Inventory.quantity <= limit,
                        Inventory.is_enabled.is_(True),
                        Inventory.is_deleted.is_(False),
                    )
                    .order_by(Inventory.quantity, Inventory.id)
                )
            )

    def edit(self, user_id: int, etsy_listing_id: int, fields: dict[str, Any]) -> PendingChangeView:
        """Edit a listing locally and queue the edit for Etsy's updateListing, in one transaction.

        `fields` are updateListing's own names with parsed values (see `etsy.writes.LISTING_FIELDS`). Price
        and quantity are not among them: on Etsy they change only through the inventory, and so they do here.
        """
        if not fields:
            raise InvalidArgumentError("nothing to change: give at least one listing field")
        for name in fields:
            if name in ("price", "quantity", "sku"):
                raise InvalidArgumentError(f"{name} changes through the inventory (`stock set`), not a listing edit")
            if name not in LISTING_FIELDS:
                raise InvalidArgumentError(f"unknown listing field {name!r}; known: {', '.join(LISTING_FIELDS)}")
        with self.db.session() as session:
            listing = lock_owned(session, Listing, Listing.etsy_listing_id, etsy_listing_id, "listing", user_id)
            base, stamp = inherited_base(open_changes(session, "listing", [etsy_listing_id]), fields)
            for name, value in fields.items():
                column = LISTING_FIELDS[name].core_column
                if column is None:
                    continue  # core does not keep it: Etsy's value is not known, so it cannot conflict
                base.setdefault(name, getattr(listing, column))
                setattr(listing, column, value)
            change = new_change(
                shop_id=listing.shop_id,
                user_id=user_id,
                entity_type="listing",
                entity_id=etsy_listing_id,
                change_type="listing_update",
                payload={"listing_id": etsy_listing_id, "fields": dict(fields)},
                base_values=base,
                base_updated_timestamp=stamp if stamp is not None else listing.etsy_updated_timestamp,
                priority=PRIORITY_NORMAL,
            )
            session.add(change)
            session.flush()
            view = to_view(PendingChangeView, change)
        self.cache.invalidate_shop(view.shop_id, user_id)
        return view
