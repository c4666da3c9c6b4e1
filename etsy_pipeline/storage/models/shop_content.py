"""What a shop shows besides its listings: its sections and the reviews buyers left.

Every column carries a comment because analysts read these tables in their SQL clients (and analytics counts
reviews from here, not from `etsy_raw`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, Integer, SmallInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from etsy_pipeline.storage.base import CORE, Base
from etsy_pipeline.storage.models.payments import CREATED, ID, UPDATED


class ShopSection(Base):
    """A section of a shop (Etsy's grouping of listings on the shop page)."""

    __tablename__ = "shop_sections"
    __table_args__ = {"schema": CORE, "comment": "Sections of each shop, as Etsy lists them."}

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, comment=ID)
    etsy_shop_section_id: Mapped[int] = mapped_column(unique=True, comment="Etsy's section id.")
    shop_id: Mapped[int] = mapped_column(
        ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), index=True, comment="core.shops.id of the shop."
    )
    title: Mapped[str] = mapped_column(Text, comment="The section's title.")
    rank: Mapped[int | None] = mapped_column(Integer, comment="Position of the section on the shop page.")
    active_listing_count: Mapped[int | None] = mapped_column(Integer, comment="Active listings in the section.")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), comment=CREATED)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now(), comment=UPDATED)


class Review(Base):
    """A buyer's review of one purchase (an Etsy transaction)."""

    __tablename__ = "reviews"
    __table_args__ = (
        Index("ix_reviews_shop_id_etsy_created_at", "shop_id", "etsy_created_at"),
        {"schema": CORE, "comment": "Reviews buyers left on each shop's purchases."},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, comment=ID)
    etsy_transaction_id: Mapped[int] = mapped_column(unique=True, comment="Etsy's transaction id reviewed.")
    shop_id: Mapped[int] = mapped_column(
        ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), comment="core.shops.id of the shop."
    )
    listing_id: Mapped[int | None] = mapped_column(
        ForeignKey(f"{CORE}.listings.id", ondelete="SET NULL"),
        index=True,
        comment="core.listings.id of the listing; null while the listing is not synced.",
    )
    etsy_listing_id: Mapped[int | None] = mapped_column(comment="Etsy's listing id.")
    etsy_buyer_user_id: Mapped[int | None] = mapped_column(comment="Etsy's user id of the buyer (may be withheld).")
    rating: Mapped[int] = mapped_column(SmallInteger, comment="Stars, 1 to 5.")
    review: Mapped[str | None] = mapped_column(Text, comment="The buyer's text.")
    language: Mapped[str | None] = mapped_column(String(16), comment="Language of the text.")
    etsy_created_at: Mapped[datetime] = mapped_column(comment="When the review was left.")
    etsy_updated_at: Mapped[datetime | None] = mapped_column(comment="When Etsy last changed the review.")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), comment=CREATED)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now(), comment=UPDATED)
