"""Orders (Etsy receipts), their line items (transactions) and the customers derived from them.

Money is `numeric` plus the order's currency, converted exactly from Etsy's Money objects. Buyer personal data
(name, email, shipping address) is stored only as Fernet ciphertext; country stays readable for analytics.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from etsy_pipeline.storage.base import CORE, Base, Timestamps, id_column


class Order(Timestamps, Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_shop_id_etsy_created_at", "shop_id", "etsy_created_at"),
        Index("ix_orders_shop_id_status_etsy_created_at", "shop_id", "status", "etsy_created_at"),
        # New-vs-returning buyers and customer figures look a buyer's orders up within the shop.
        Index("ix_orders_shop_id_etsy_buyer_user_id", "shop_id", "etsy_buyer_user_id"),
        {"schema": CORE},
    )

    id: Mapped[int] = id_column()
    etsy_receipt_id: Mapped[int] = mapped_column(unique=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey(f"{CORE}.customers.id", ondelete="SET NULL"), index=True)
    etsy_buyer_user_id: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(40))
    is_paid: Mapped[bool] = mapped_column(server_default="false")
    is_shipped: Mapped[bool] = mapped_column(server_default="false")
    is_gift: Mapped[bool] = mapped_column(server_default="false")
    payment_method: Mapped[str | None] = mapped_column(String(40))
    country_iso: Mapped[str | None] = mapped_column(String(2))
    currency_code: Mapped[str] = mapped_column(String(3))
    grandtotal: Mapped[Decimal]
    subtotal: Mapped[Decimal]
    total_price: Mapped[Decimal]
    total_shipping_cost: Mapped[Decimal] = mapped_column(server_default="0")
    total_tax_cost: Mapped[Decimal] = mapped_column(server_default="0")
    total_vat_cost: Mapped[Decimal] = mapped_column(server_default="0")
    discount_amt: Mapped[Decimal] = mapped_column(server_default="0")
    gift_wrap_price: Mapped[Decimal] = mapped_column(server_default="0")
    refunded_amount: Mapped[Decimal] = mapped_column(server_default="0")
    buyer_name_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    buyer_email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    shipping_address_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    etsy_created_at: Mapped[datetime]
    etsy_updated_at: Mapped[datetime | None]
    etsy_updated_timestamp: Mapped[int | None]
    shipped_at: Mapped[datetime | None]


class OrderItem(Timestamps, Base):
    __tablename__ = "order_items"
    __table_args__ = {"schema": CORE}

    id: Mapped[int] = id_column()
    etsy_transaction_id: Mapped[int] = mapped_column(unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.orders.id", ondelete="CASCADE"), index=True)
    # The listing may be gone or not synced yet: keep Etsy's id and link when it is known.
    listing_id: Mapped[int | None] = mapped_column(ForeignKey(f"{CORE}.listings.id", ondelete="SET NULL"), index=True)
    etsy_listing_id: Mapped[int | None]
    etsy_product_id: Mapped[int | None]
    title: Mapped[str | None] = mapped_column(Text)
    sku: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[int] = mapped_column(Integer)
    price: Mapped[Decimal]
    shipping_cost: Mapped[Decimal] = mapped_column(server_default="0")
    currency_code: Mapped[str] = mapped_column(String(3))
    variations: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    etsy_created_at: Mapped[datetime | None]
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]


class Customer(Timestamps, Base):
    """A buyer of one shop with aggregated purchase history (Etsy has no customer endpoint)."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("shop_id", "etsy_buyer_user_id"),
        Index("ix_customers_shop_id_last_order_at", "shop_id", "last_order_at"),
        {"schema": CORE},
    )

    id: Mapped[int] = id_column()
    shop_id: Mapped[int] = mapped_column(ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"))
    etsy_buyer_user_id: Mapped[int]
    name_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    country_iso: Mapped[str | None] = mapped_column(String(2))
    first_order_at: Mapped[datetime]
    last_order_at: Mapped[datetime]
    order_count: Mapped[int] = mapped_column(Integer, server_default="0")
    units: Mapped[int] = mapped_column(Integer, server_default="0")
    total_spent: Mapped[Decimal] = mapped_column(server_default="0")
    currency_code: Mapped[str] = mapped_column(String(3))
