"""Orders written by hand into `core`, for expectations worked out by hand: money fields the emulator never
sets (VAT, gift wrap), orders placed exactly at midnight, a buyer whose first order was canceled."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from etsy_pipeline.storage.base import table_of
from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.models import Order, OrderItem
from etsy_pipeline_tests.factories import next_id


@dataclass
class HandOrder:
    buyer: int
    created: datetime
    items: list[tuple[int, str]]  # (quantity, unit price)
    status: str = "completed"
    discount: str = "0"
    shipping: str = "0"
    tax: str = "0"
    vat: str = "0"
    gift_wrap: str = "0"
    refunded: str = "0"
    listing_id: int | None = None
    receipt_id: int = field(default_factory=next_id)

    @property
    def total_price(self) -> Decimal:
        return sum((q * Decimal(p) for q, p in self.items), Decimal(0))

    @property
    def grandtotal(self) -> Decimal:
        extras = (self.shipping, self.tax, self.vat, self.gift_wrap)
        return self.total_price - Decimal(self.discount) + sum(Decimal(x) for x in extras)


def add_hand_orders(db: Database, shop_id: int, orders: list[HandOrder], currency: str = "USD") -> None:
    with db.engine.begin() as conn:
        for o in orders:
            values = {
                "etsy_receipt_id": o.receipt_id, "shop_id": shop_id, "etsy_buyer_user_id": o.buyer,
                "status": o.status, "is_paid": o.status != "canceled", "currency_code": currency,
                "grandtotal": o.grandtotal, "subtotal": o.total_price - Decimal(o.discount),
                "total_price": o.total_price, "total_shipping_cost": Decimal(o.shipping),
                "total_tax_cost": Decimal(o.tax), "total_vat_cost": Decimal(o.vat),
                "discount_amt": Decimal(o.discount), "gift_wrap_price": Decimal(o.gift_wrap),
                "refunded_amount": Decimal(o.refunded), "etsy_created_at": o.created,
            }  # fmt: skip
            order_id = conn.execute(table_of(Order).insert().values(values).returning(Order.id)).scalar_one()
            conn.execute(
                table_of(OrderItem).insert(),
                [
                    {"etsy_transaction_id": next_id(), "order_id": order_id, "listing_id": o.listing_id,
                     "quantity": q, "price": Decimal(p), "currency_code": currency, "etsy_created_at": o.created}
                    for q, p in o.items
                ],
            )  # fmt: skip
