"""payments and fees: core payments, ledger entries, shop sections, reviews; fees in shop_daily_metrics

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

Etsy's payments, payment ledger, shop sections and reviews were loaded into `etsy_raw` but never shaped; these
core tables give them typed homes (money as numeric plus currency, like orders), so analytics can report what
the seller earned after Etsy's fees and read reviews from core. Every column is commented (the models say the
same). `analytics.shop_daily_metrics` gains `etsy_fees` and `net_revenue_after_fees`: columns on an existing,
already protected table (added to the partitioned parent, so every month partition has them); no analytics table
is created here, so none needs `analyst_access.protect`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FEES_COLUMNS = {
    "etsy_fees": "Etsy's fees on these orders (their payments' fees after adjustments; none while unsynced).",
    "net_revenue_after_fees": (
        "What Etsy pays for these orders: buyers paid (items, shipping, tax) less refunds and fees."
    ),
}


def upgrade() -> None:
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False, comment="Surrogate key."),
        sa.Column("etsy_entry_id", sa.BigInteger(), nullable=False, comment="Etsy's ledger entry id."),
        sa.Column("shop_id", sa.BigInteger(), nullable=False, comment="core.shops.id of the shop."),
        sa.Column("etsy_ledger_id", sa.BigInteger(), nullable=False, comment="Etsy's ledger (payment account) id."),
        sa.Column(
            "sequence_number", sa.BigInteger(), nullable=False, comment="Position in the ledger; higher is newer."
        ),
        sa.Column(
            "currency_code", sa.String(length=3), nullable=False, comment="Currency of amount and balance (ISO 4217)."
        ),
        sa.Column(
            "amount", sa.Numeric(), nullable=False, comment="Money in (positive) or out (negative) of the account."
        ),
        sa.Column("balance", sa.Numeric(), nullable=False, comment="The account's balance after this line."),
        sa.Column(
            "ledger_type",
            sa.String(length=80),
            nullable=True,
            comment="Etsy's kind of line (PAYMENT_GROSS, PAYMENT_PROCESSING_FEE, REFUND_GROSS, ...).",
        ),
        sa.Column("description", sa.Text(), nullable=True, comment="Etsy's description of the line."),
        sa.Column(
            "reference_type",
            sa.String(length=80),
            nullable=True,
            comment="What reference_id names (shop_payment, payment_adjustment, ...).",
        ),
        sa.Column("reference_id", sa.Text(), nullable=True, comment="Etsy's id of the object the line is about."),
        sa.Column(
            "etsy_payment_id",
            sa.BigInteger(),
            nullable=True,
            comment="Etsy's payment id the line is about, directly or through its adjustment; else null.",
        ),
        sa.Column("etsy_created_at", sa.DateTime(timezone=True), nullable=False, comment="When the line was written."),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When etsy-pipeline first wrote the row (database time).",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When etsy-pipeline last changed the row (database time).",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_ledger_entries_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        sa.UniqueConstraint("etsy_entry_id", name=op.f("uq_ledger_entries_etsy_entry_id")),
        schema="core",
        comment="Lines of each shop's Etsy payment account (sales, fees, refunds).",
    )
    op.create_index(
        op.f("ix_ledger_entries_etsy_payment_id"), "ledger_entries", ["etsy_payment_id"], unique=False, schema="core"
    )
    op.create_index(
        "ix_ledger_entries_shop_id_etsy_created_at",
        "ledger_entries",
        ["shop_id", "etsy_created_at"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "shop_sections",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False, comment="Surrogate key."),
        sa.Column("etsy_shop_section_id", sa.BigInteger(), nullable=False, comment="Etsy's section id."),
        sa.Column("shop_id", sa.BigInteger(), nullable=False, comment="core.shops.id of the shop."),
        sa.Column("title", sa.Text(), nullable=False, comment="The section's title."),
        sa.Column("rank", sa.Integer(), nullable=True, comment="Position of the section on the shop page."),
        sa.Column("active_listing_count", sa.Integer(), nullable=True, comment="Active listings in the section."),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When etsy-pipeline first wrote the row (database time).",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When etsy-pipeline last changed the row (database time).",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_shop_sections_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_sections")),
        sa.UniqueConstraint("etsy_shop_section_id", name=op.f("uq_shop_sections_etsy_shop_section_id")),
        schema="core",
        comment="Sections of each shop, as Etsy lists them.",
    )
    op.create_index(op.f("ix_shop_sections_shop_id"), "shop_sections", ["shop_id"], unique=False, schema="core")
    op.create_table(
        "reviews",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False, comment="Surrogate key."),
        sa.Column("etsy_transaction_id", sa.BigInteger(), nullable=False, comment="Etsy's transaction id reviewed."),
        sa.Column("shop_id", sa.BigInteger(), nullable=False, comment="core.shops.id of the shop."),
        sa.Column(
            "listing_id",
            sa.BigInteger(),
            nullable=True,
            comment="core.listings.id of the listing; null while the listing is not synced.",
        ),
        sa.Column("etsy_listing_id", sa.BigInteger(), nullable=True, comment="Etsy's listing id."),
        sa.Column(
            "etsy_buyer_user_id",
            sa.BigInteger(),
            nullable=True,
            comment="Etsy's user id of the buyer (may be withheld).",
        ),
        sa.Column("rating", sa.SmallInteger(), nullable=False, comment="Stars, 1 to 5."),
        sa.Column("review", sa.Text(), nullable=True, comment="The buyer's text."),
        sa.Column("language", sa.String(length=16), nullable=True, comment="Language of the text."),
        sa.Column("etsy_created_at", sa.DateTime(timezone=True), nullable=False, comment="When the review was left."),
        sa.Column(
            "etsy_updated_at", sa.DateTime(timezone=True), nullable=True, comment="When Etsy last changed the review."
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When etsy-pipeline first wrote the row (database time).",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When etsy-pipeline last changed the row (database time).",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"], ["core.listings.id"], name=op.f("fk_reviews_listing_id_listings"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_reviews_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint("etsy_transaction_id", name=op.f("uq_reviews_etsy_transaction_id")),
        schema="core",
        comment="Reviews buyers left on each shop's purchases.",
    )
    op.create_index(op.f("ix_reviews_listing_id"), "reviews", ["listing_id"], unique=False, schema="core")
    op.create_index(
        "ix_reviews_shop_id_etsy_created_at", "reviews", ["shop_id", "etsy_created_at"], unique=False, schema="core"
    )
    op.create_table(
        "payments",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False, comment="Surrogate key."),
        sa.Column("etsy_payment_id", sa.BigInteger(), nullable=False, comment="Etsy's payment id."),
        sa.Column("shop_id", sa.BigInteger(), nullable=False, comment="core.shops.id of the shop."),
        sa.Column(
            "order_id",
            sa.BigInteger(),
            nullable=True,
            comment="core.orders.id of the receipt paid; null until the receipt is synced.",
        ),
        sa.Column("etsy_receipt_id", sa.BigInteger(), nullable=False, comment="Etsy's receipt id of the order paid."),
        sa.Column("etsy_buyer_user_id", sa.BigInteger(), nullable=True, comment="Etsy's user id of the buyer."),
        sa.Column(
            "currency_code", sa.String(length=3), nullable=False, comment="Currency of the money columns (ISO 4217)."
        ),
        sa.Column("buyer_currency_code", sa.String(length=3), nullable=True, comment="Currency the buyer paid in."),
        sa.Column(
            "status", sa.String(length=40), nullable=True, comment="Etsy's payment status (authed, settled, ...)."
        ),
        sa.Column("gross", sa.Numeric(), nullable=False, comment="What the buyer paid (Etsy's amount_gross)."),
        sa.Column("fees", sa.Numeric(), nullable=False, comment="Etsy's fees on the payment (amount_fees)."),
        sa.Column("net", sa.Numeric(), nullable=False, comment="gross - fees (amount_net)."),
        sa.Column(
            "posted_gross", sa.Numeric(), nullable=True, comment="Gross posted to the account; null until posted."
        ),
        sa.Column("posted_fees", sa.Numeric(), nullable=True, comment="Fees posted to the account; null until posted."),
        sa.Column("posted_net", sa.Numeric(), nullable=True, comment="Net posted to the account; null until posted."),
        sa.Column(
            "adjusted_gross", sa.Numeric(), nullable=True, comment="Gross after adjustments; null when never adjusted."
        ),
        sa.Column(
            "adjusted_fees", sa.Numeric(), nullable=True, comment="Fees after adjustments; null when never adjusted."
        ),
        sa.Column(
            "adjusted_net", sa.Numeric(), nullable=True, comment="Net after adjustments; null when never adjusted."
        ),
        sa.Column(
            "adjustments",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="Payment adjustments (refunds, cancellations) on the payment.",
        ),
        sa.Column(
            "adjusted_amount",
            sa.Numeric(),
            server_default="0",
            nullable=False,
            comment="Given back to the buyer by those adjustments, summed.",
        ),
        sa.Column(
            "adjusted_fee_amount",
            sa.Numeric(),
            server_default="0",
            nullable=False,
            comment="Fees Etsy gave back to the seller by those adjustments, summed.",
        ),
        sa.Column(
            "last_adjusted_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the latest adjustment was made.",
        ),
        sa.Column("etsy_created_at", sa.DateTime(timezone=True), nullable=False, comment="When the payment was made."),
        sa.Column(
            "etsy_updated_at", sa.DateTime(timezone=True), nullable=True, comment="When Etsy last changed the payment."
        ),
        sa.Column(
            "etsy_updated_timestamp", sa.BigInteger(), nullable=True, comment="Etsy's updated_timestamp, as sent."
        ),
        sa.Column(
            "shipped_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the order shipped, as the payment says.",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When etsy-pipeline first wrote the row (database time).",
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
            comment="When etsy-pipeline last changed the row (database time).",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["core.orders.id"], name=op.f("fk_payments_order_id_orders"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_payments_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("etsy_payment_id", name=op.f("uq_payments_etsy_payment_id")),
        schema="core",
        comment="Etsy payments: gross, fees, net and adjustments of each receipt.",
    )
    op.create_index(op.f("ix_payments_etsy_receipt_id"), "payments", ["etsy_receipt_id"], unique=False, schema="core")
    op.create_index(op.f("ix_payments_order_id"), "payments", ["order_id"], unique=False, schema="core")
    op.create_index(
        "ix_payments_shop_id_etsy_created_at", "payments", ["shop_id", "etsy_created_at"], unique=False, schema="core"
    )

    for name, comment in FEES_COLUMNS.items():
        op.add_column(
            "shop_daily_metrics",
            sa.Column(name, sa.Numeric(), server_default="0", nullable=False, comment=comment),
            schema="analytics",
        )


def downgrade() -> None:
    for name in FEES_COLUMNS:
        op.drop_column("shop_daily_metrics", name, schema="analytics")
    op.drop_index("ix_payments_shop_id_etsy_created_at", table_name="payments", schema="core")
    op.drop_index(op.f("ix_payments_order_id"), table_name="payments", schema="core")
    op.drop_index(op.f("ix_payments_etsy_receipt_id"), table_name="payments", schema="core")
    op.drop_table("payments", schema="core")
    op.drop_index("ix_reviews_shop_id_etsy_created_at", table_name="reviews", schema="core")
    op.drop_index(op.f("ix_reviews_listing_id"), table_name="reviews", schema="core")
    op.drop_table("reviews", schema="core")
    op.drop_index(op.f("ix_shop_sections_shop_id"), table_name="shop_sections", schema="core")
    op.drop_table("shop_sections", schema="core")
    op.drop_index("ix_ledger_entries_shop_id_etsy_created_at", table_name="ledger_entries", schema="core")
    op.drop_index(op.f("ix_ledger_entries_etsy_payment_id"), table_name="ledger_entries", schema="core")
    op.drop_table("ledger_entries", schema="core")
