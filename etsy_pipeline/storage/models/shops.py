"""Etsy shops: metadata, the stats Etsy reports, sync status and per-shop settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from etsy_pipeline.storage.base import CORE, Base, Timestamps, id_column

SYNC_STATUSES = ("never", "running", "ok", "failed", "needs_reauth", "quota_exhausted", "incomplete")


class Shop(Timestamps, Base):
    __tablename__ = "shops"
    __table_args__ = (
        CheckConstraint("sync_status IN (" + ", ".join(f"'{s}'" for s in SYNC_STATUSES) + ")", name="sync_status"),
        CheckConstraint("low_stock_threshold IS NULL OR low_stock_threshold >= 0", name="low_stock"),
        {"schema": CORE},
    )

    id: Mapped[int] = id_column()
    etsy_shop_id: Mapped[int] = mapped_column(unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.users.id", ondelete="CASCADE"), index=True)
    etsy_user_id: Mapped[int | None]
    shop_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(Text)
    currency_code: Mapped[str | None] = mapped_column(String(3))
    url: Mapped[str | None] = mapped_column(Text)
    is_vacation: Mapped[bool] = mapped_column(server_default="false")
    listing_active_count: Mapped[int] = mapped_column(Integer, server_default="0")
    transaction_sold_count: Mapped[int] = mapped_column(Integer, server_default="0")
    num_favorers: Mapped[int] = mapped_column(Integer, server_default="0")
    review_count: Mapped[int] = mapped_column(Integer, server_default="0")
    review_average: Mapped[Decimal | None]
    etsy_created_at: Mapped[datetime | None]
    etsy_updated_at: Mapped[datetime | None]
    sync_status: Mapped[str] = mapped_column(String(20), server_default="never")
    last_synced_at: Mapped[datetime | None]
    last_sync_error: Mapped[str | None] = mapped_column(Text)
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    settings: Mapped[dict[str, Any]] = mapped_column(server_default="{}")
    # The last dlt load of `etsy_raw` shaped into `core` for this shop (see transform.core).
    raw_load_id: Mapped[str | None] = mapped_column(String(40))
