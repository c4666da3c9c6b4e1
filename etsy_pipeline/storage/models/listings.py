"""Listings, their media, inventory per product offering, and daily listing snapshots."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from etsy_pipeline.storage.base import CORE, Base, Timestamps, id_column

LISTING_STATES = ("active", "inactive", "sold_out", "draft", "expired", "removed")

# Weighted full-text document: title (A) ranks above tags (B) above description (C). The tags function is a
# project-defined IMMUTABLE wrapper because array_to_string is only STABLE and generated columns need IMMUTABLE.
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, core.immutable_array_to_text(tags)), 'B') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')"
)


class Listing(Timestamps, Base):
    __tablename__ = "listings"
    __table_args__ = (
        CheckConstraint("state IN (" + ", ".join(f"'{s}'" for s in LISTING_STATES) + ")", name="state"),
        Index("ix_listings_shop_id_state_id", "shop_id", "state", "id"),
        Index("ix_listings_search_vector", "search_vector", postgresql_using="gin"),
        {"schema": CORE},
    )

    id: Mapped[int] = id_column()
    etsy_listing_id: Mapped[int] = mapped_column(unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal | None]
    currency_code: Mapped[str | None] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer, server_default="0")
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    materials: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    taxonomy_id: Mapped[int | None]
    shop_section_id: Mapped[int | None]
    listing_type: Mapped[str | None] = mapped_column(String(20))
    who_made: Mapped[str | None] = mapped_column(String(40))
    when_made: Mapped[str | None] = mapped_column(String(40))
    url: Mapped[str | None] = mapped_column(Text)
    views: Mapped[int] = mapped_column(Integer, server_default="0")
    num_favorers: Mapped[int] = mapped_column(Integer, server_default="0")
    has_variations: Mapped[bool] = mapped_column(server_default="false")
    etsy_created_at: Mapped[datetime | None]
    etsy_updated_at: Mapped[datetime | None]
    etsy_updated_timestamp: Mapped[int | None]
    search_vector: Mapped[str] = mapped_column(TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True))


class ListingImage(Timestamps, Base):
    __tablename__ = "listing_images"
    __table_args__ = {"schema": CORE}

    id: Mapped[int] = id_column()
    etsy_image_id: Mapped[int] = mapped_column(unique=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.listings.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer, server_default="1")
    url_570xn: Mapped[str | None] = mapped_column(Text)
    url_fullxfull: Mapped[str | None] = mapped_column(Text)
    full_width: Mapped[int | None] = mapped_column(Integer)
    full_height: Mapped[int | None] = mapped_column(Integer)
    alt_text: Mapped[str | None] = mapped_column(Text)
    etsy_created_at: Mapped[datetime | None]


class ListingVideo(Timestamps, Base):
    __tablename__ = "listing_videos"
    __table_args__ = {"schema": CORE}

    id: Mapped[int] = id_column()
    etsy_video_id: Mapped[int] = mapped_column(unique=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.listings.id", ondelete="CASCADE"), index=True)
    video_url: Mapped[str | None] = mapped_column(Text)
    thumbnail_url: Mapped[str | None] = mapped_column(Text)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    video_state: Mapped[str | None] = mapped_column(String(20))


class Inventory(Timestamps, Base):
    """One row per product offering.

    Etsy changes product and offering ids on every inventory update, so the stable key is the listing plus
    `variation_key` (the sorted property_id:value_id pairs, '' for a listing without variations).
    """

    __tablename__ = "inventory"
    __table_args__ = (
        UniqueConstraint("listing_id", "variation_key"),
        CheckConstraint("quantity >= 0", name="quantity"),
        Index("ix_inventory_shop_id_quantity", "shop_id", "quantity"),
        {"schema": CORE},
    )

    id: Mapped[int] = id_column()
    listing_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.listings.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), index=True)
    variation_key: Mapped[str] = mapped_column(Text, server_default="")
    etsy_product_id: Mapped[int | None]
    etsy_offering_id: Mapped[int | None]
    sku: Mapped[str | None] = mapped_column(Text, index=True)
    property_values: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    price: Mapped[Decimal | None]
    currency_code: Mapped[str | None] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Integer)
    is_enabled: Mapped[bool] = mapped_column(server_default="true")
    is_deleted: Mapped[bool] = mapped_column(server_default="false")


class ListingSnapshot(Base):
    """Views, favorites and stock of a listing as seen on one day (Etsy's `views` is a lifetime counter)."""

    __tablename__ = "listing_snapshots"
    __table_args__ = (
        UniqueConstraint("listing_id", "snapshot_date"),
        # The daily analytics read one day's snapshots across every listing.
        Index("ix_listing_snapshots_snapshot_date", "snapshot_date"),
        {"schema": CORE},
    )

    id: Mapped[int] = id_column()
    listing_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.listings.id", ondelete="CASCADE"))
    snapshot_date: Mapped[date]
    views: Mapped[int] = mapped_column(Integer)
    num_favorers: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str | None] = mapped_column(String(20))
