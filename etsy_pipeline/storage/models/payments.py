"""What Etsy paid out for each order and what its payment account recorded: payments and ledger entries.

Etsy's Payment is the only place that knows the fees, so "what the seller earned" comes from here, not from
the receipt. Money is `numeric` plus currency, converted exactly; the ints Etsy sends for ledger lines and
payment adjustments are minor units of the shop's currency and are divided by that currency's divisor.
Every column carries a comment because analysts and operators read these tables in their SQL clients.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Identity, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from etsy_pipeline.storage.base import CORE, Base

ID = "Surrogate key."
CREATED = "When etsy-pipeline first wrote the row (database time)."
UPDATED = "When etsy-pipeline last changed the row (database time)."


def _money(comment: str, *, nullable: bool = False) -> Mapped[Decimal]:
    return mapped_column(nullable=nullable, comment=comment)


class Payment(Base):
    """One Etsy Payment: the money of one receipt, its fees, and what adjustments (refunds, cancellations) gave back."""

    __tablename__ = "payments"
    __table_args__ = (
        Index("ix_payments_shop_id_etsy_created_at", "shop_id", "etsy_created_at"),
        {"schema": CORE, "comment": "Etsy payments: gross, fees, net and adjustments of each receipt."},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, comment=ID)
    etsy_payment_id: Mapped[int] = mapped_column(unique=True, comment="Etsy's payment id.")
    shop_id: Mapped[int] = mapped_column(
        ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), comment="core.shops.id of the shop."
    )
    order_id: Mapped[int | None] = mapped_column(
        ForeignKey(f"{CORE}.orders.id", ondelete="SET NULL"),
        index=True,
        comment="core.orders.id of the receipt paid; null until the receipt is synced.",
    )
    etsy_receipt_id: Mapped[int] = mapped_column(index=True, comment="Etsy's receipt id of the order paid.")
    etsy_buyer_user_id: Mapped[int | None] = mapped_column(comment="Etsy's user id of the buyer.")
    currency_code: Mapped[str] = mapped_column(String(3), comment="Currency of the money columns (ISO 4217).")
    buyer_currency_code: Mapped[str | None] = mapped_column(String(3), comment="Currency the buyer paid in.")
    status: Mapped[str | None] = mapped_column(String(40), comment="Etsy's payment status (authed, settled, ...).")
    gross: Mapped[Decimal] = _money("What the buyer paid (Etsy's amount_gross).")
    fees: Mapped[Decimal] = _money("Etsy's fees on the payment (amount_fees).")
    net: Mapped[Decimal] = _money("gross - fees (amount_net).")
    posted_gross: Mapped[Decimal | None] = _money("Gross posted to the account; null until posted.", nullable=True)
    posted_fees: Mapped[Decimal | None] = _money("Fees posted to the account; null until posted.", nullable=True)
    posted_net: Mapped[Decimal | None] = _money("Net posted to the account; null until posted.", nullable=True)
    adjusted_gross: Mapped[Decimal | None] = _money("Gross after adjustments; null when never adjusted.", nullable=True)
    adjusted_fees: Mapped[Decimal | None] = _money("Fees after adjustments; null when never adjusted.", nullable=True)
    adjusted_net: Mapped[Decimal | None] = _money("Net after adjustments; null when never adjusted.", nullable=True)
    adjustments: Mapped[int] = mapped_column(
        Integer, server_default="0", comment="Payment adjustments (refunds, cancellations) on the payment."
    )
    adjusted_amount: Mapped[Decimal] = mapped_column(
        server_default="0", comment="Given back to the buyer by those adjustments, summed."
    )
    adjusted_fee_amount: Mapped[Decimal] = mapped_column(
        server_default="0", comment="Fees Etsy gave back to the seller by those adjustments, summed."
    )
    last_adjusted_at: Mapped[datetime | None] = mapped_column(comment="When the latest adjustment was made.")
    etsy_created_at: Mapped[datetime] = mapped_column(comment="When the payment was made.")
    etsy_updated_at: Mapped[datetime | None] = mapped_column(comment="When Etsy last changed the payment.")
    etsy_updated_timestamp: Mapped[int | None] = mapped_column(comment="Etsy's updated_timestamp, as sent.")
    shipped_at: Mapped[datetime | None] = mapped_column(comment="When the order shipped, as the payment says.")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), comment=CREATED)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now(), comment=UPDATED)


class LedgerEntry(Base):
    """One line of a shop's payment account; Etsy never changes one once written."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_shop_id_etsy_created_at", "shop_id", "etsy_created_at"),
        {"schema": CORE, "comment": "Lines of each shop's Etsy payment account (sales, fees, refunds)."},
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True, comment=ID)
    etsy_entry_id: Mapped[int] = mapped_column(unique=True, comment="Etsy's ledger entry id.")
    shop_id: Mapped[int] = mapped_column(
        ForeignKey(f"{CORE}.shops.id", ondelete="CASCADE"), comment="core.shops.id of the shop."
    )
    etsy_ledger_id: Mapped[int] = mapped_column(comment="Etsy's ledger (payment account) id.")
    sequence_number: Mapped[int] = mapped_column(comment="Position in the ledger; higher is newer.")
    currency_code: Mapped[str] = mapped_column(String(3), comment="Currency of amount and balance (ISO 4217).")
    amount: Mapped[Decimal] = mapped_column(comment="Money in (positive) or out (negative) of the account.")
    balance: Mapped[Decimal] = mapped_column(comment="The account's balance after this line.")
    ledger_type: Mapped[str | None] = mapped_column(
        String(80), comment="Etsy's kind of line (PAYMENT_GROSS, PAYMENT_PROCESSING_FEE, REFUND_GROSS, ...)."
    )
    description: Mapped[str | None] = mapped_column(Text, comment="Etsy's description of the line.")
    reference_type: Mapped[str | None] = mapped_column(
        String(80), comment="What reference_id names (shop_payment, payment_adjustment, ...)."
    )
    reference_id: Mapped[str | None] = mapped_column(Text, comment="Etsy's id of the object the line is about.")
    etsy_payment_id: Mapped[int | None] = mapped_column(
        index=True, comment="Etsy's payment id the line is about, directly or through its adjustment; else null."
    )
    etsy_created_at: Mapped[datetime] = mapped_column(comment="When the line was written.")
    created_at: Mapped[datetime] = mapped_column(server_default=func.now(), comment=CREATED)
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now(), comment=UPDATED)
