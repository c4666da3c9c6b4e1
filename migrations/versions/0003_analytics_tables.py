"""analytics tables: listing metrics, customers, RFM segments, inventory alerts, analyst views

Every table, view and column gets a COMMENT ON (tables and columns through the models, views here).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VIEWS = {
    "sales_last_30_days": (
        """
        SELECT s.id AS shop_id, s.shop_name, m.currency_code, sum(m.orders) AS orders,
            sum(m.items_sold) AS items_sold, sum(m.gross_sales) AS gross_sales, sum(m.discounts) AS discounts,
            sum(m.refunds) AS refunds, sum(m.net_sales) AS net_sales,
            CASE WHEN sum(m.orders) > 0 THEN round((sum(m.gross_sales) - sum(m.discounts)) / sum(m.orders), 2) END
                AS average_order_value,
            sum(m.new_buyers) AS new_buyers, sum(m.returning_buyers) AS returning_buyers
        FROM analytics.shop_daily_metrics m JOIN core.shops s ON s.id = m.shop_id
        WHERE m.metric_date > current_date - 30
        GROUP BY s.id, s.shop_name, m.currency_code
        """,
        "Sales of the last 30 days per shop and currency (from shop_daily_metrics).",
        {
            "shop_id": "core.shops.id of the shop.",
            "shop_name": "The shop's Etsy name.",
            "currency_code": "Currency of the money columns.",
            "orders": "Orders placed (canceled excluded).",
            "items_sold": "Units sold.",
            "gross_sales": "Unit price x quantity.",
            "discounts": "Discounts given.",
            "refunds": "Refunded on these orders so far.",
            "net_sales": "gross_sales - discounts - refunds.",
            "average_order_value": "(gross_sales - discounts) / orders, rounded to cents.",
            "new_buyers": "Daily new buyers, summed.",
            "returning_buyers": "Daily returning buyers, summed.",
        },
    ),
    "best_listings_last_30_days": (
        """
        SELECT l.shop_id, l.id AS listing_id, l.etsy_listing_id, l.title, sum(d.units_sold) AS units_sold,
            sum(d.revenue) AS revenue, sum(d.views_gained) AS views_gained,
            rank() OVER (PARTITION BY l.shop_id ORDER BY sum(d.revenue) DESC) AS revenue_rank
        FROM analytics.listing_daily_metrics d JOIN core.listings l ON l.id = d.listing_id
        WHERE d.metric_date > current_date - 30
        GROUP BY l.shop_id, l.id, l.etsy_listing_id, l.title
        """,
        "Listings of the last 30 days ranked by revenue within each shop.",
        {
            "shop_id": "core.shops.id of the shop.",
            "listing_id": "core.listings.id of the listing.",
            "etsy_listing_id": "Etsy's listing id.",
            "title": "The listing's current title.",
            "units_sold": "Units sold in 30 days.",
            "revenue": "Unit price x quantity in 30 days.",
            "views_gained": "Views gained in 30 days.",
            "revenue_rank": "1 = the shop's best seller.",
        },
    ),
    "segment_sizes": (
        """
        SELECT cs.shop_id, cs.as_of_date, cs.segment, count(*) AS customers, sum(cs.monetary) AS monetary
        FROM analytics.customer_segments cs
        WHERE cs.as_of_date = (SELECT max(x.as_of_date) FROM analytics.customer_segments x WHERE x.shop_id = cs.shop_id)
        GROUP BY cs.shop_id, cs.as_of_date, cs.segment
        """,
        "How many customers each RFM segment holds today, per shop (latest scoring).",
        {
            "shop_id": "core.shops.id of the shop.",
            "as_of_date": "The day of the latest scoring.",
            "segment": "The named RFM segment.",
            "customers": "Buyers in the segment.",
            "monetary": "Their lifetime spend, summed.",
        },
    ),
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def create_views() -> None:
    for name, (body, comment, columns) in VIEWS.items():
        op.execute(f"CREATE OR REPLACE VIEW analytics.{name} AS {body}")
        op.execute(f"COMMENT ON VIEW analytics.{name} IS {_quote(comment)}")
        for column, text in columns.items():
            op.execute(f"COMMENT ON COLUMN analytics.{name}.{column} IS {_quote(text)}")


def upgrade() -> None:
    op.create_table(
        "customer_segments",
        sa.Column("as_of_date", sa.Date(), nullable=False, comment="The day the scores describe."),
        sa.Column("shop_id", sa.BigInteger(), nullable=False, comment="core.shops.id of the shop."),
        sa.Column("etsy_buyer_user_id", sa.BigInteger(), nullable=False, comment="The buyer's Etsy user id."),
        sa.Column("recency_days", sa.Integer(), nullable=False, comment="Days since the buyer's last order."),
        sa.Column("frequency", sa.Integer(), nullable=False, comment="Orders placed."),
        sa.Column("monetary", sa.Numeric(), nullable=False, comment="Money spent (grand totals less refunds)."),
        sa.Column(
            "r_score",
            sa.SmallInteger(),
            nullable=False,
            comment="Recency 1-5: quintile of the last order time within the shop (5 = most recent).",
        ),
        sa.Column(
            "f_score", sa.SmallInteger(), nullable=False, comment="Frequency 1-5: 1, 2, 3, 4-5 and 6 or more orders."
        ),
        sa.Column(
            "m_score",
            sa.SmallInteger(),
            nullable=False,
            comment="Monetary 1-5: quintile of money spent within the shop (5 = most).",
        ),
        sa.Column(
            "segment",
            sa.String(length=40),
            nullable=False,
            comment="Named segment from R and the rounded mean of F and M (see docs/analytics.md).",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_customer_segments_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("as_of_date", "shop_id", "etsy_buyer_user_id", name=op.f("pk_customer_segments")),
        schema="analytics",
        comment="RFM scores (1-5) and the named segment of every buyer as of a day.",
    )
    op.create_index(
        "ix_customer_segments_shop_id_as_of_date_segment",
        "customer_segments",
        ["shop_id", "as_of_date", "segment"],
        unique=False,
        schema="analytics",
    )
    op.create_table(
        "customers",
        sa.Column(
            "as_of_date",
            sa.Date(),
            nullable=False,
            comment="The figures count orders placed up to the end of this day.",
        ),
        sa.Column("shop_id", sa.BigInteger(), nullable=False, comment="core.shops.id of the shop."),
        sa.Column("etsy_buyer_user_id", sa.BigInteger(), nullable=False, comment="The buyer's Etsy user id."),
        sa.Column(
            "first_order_at",
            sa.DateTime(timezone=True),
            nullable=False,
            comment="When the first order (canceled excluded) was placed.",
        ),
        sa.Column(
            "last_order_at", sa.DateTime(timezone=True), nullable=False, comment="When the latest order was placed."
        ),
        sa.Column("order_count", sa.Integer(), nullable=False, comment="Orders placed (canceled excluded)."),
        sa.Column("units", sa.Integer(), nullable=False, comment="Units bought."),
        sa.Column(
            "total_spent", sa.Numeric(), nullable=False, comment="Grand totals less refunds, in the shop's currency."
        ),
        sa.Column("average_order_value", sa.Numeric(), nullable=False, comment="total_spent / order_count."),
        sa.Column(
            "days_since_last_order", sa.Integer(), nullable=False, comment="Days from the last order to as_of_date."
        ),
        sa.Column(
            "currency_code", sa.String(length=3), nullable=False, comment="Currency of the money columns (ISO 4217)."
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_customers_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("as_of_date", "shop_id", "etsy_buyer_user_id", name=op.f("pk_customers")),
        schema="analytics",
        comment="Every buyer of a shop with lifetime figures as of a day.",
    )
    op.create_index(
        "ix_customers_shop_id_as_of_date", "customers", ["shop_id", "as_of_date"], unique=False, schema="analytics"
    )
    op.create_table(
        "listing_daily_metrics",
        sa.Column("metric_date", sa.Date(), nullable=False, comment="The day, in the analytics time zone."),
        sa.Column("listing_id", sa.BigInteger(), nullable=False, comment="core.listings.id of the listing."),
        sa.Column("shop_id", sa.BigInteger(), nullable=False, comment="core.shops.id of the shop."),
        sa.Column("currency_code", sa.String(length=3), nullable=True, comment="Currency of revenue (ISO 4217)."),
        sa.Column(
            "views_gained",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="Growth of Etsy's lifetime view counter since the previous snapshot.",
        ),
        sa.Column(
            "favorites_gained",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="Growth of the favorites count since the previous snapshot.",
        ),
        sa.Column(
            "units_sold",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="Units in orders placed that day (canceled orders excluded).",
        ),
        sa.Column(
            "revenue",
            sa.Numeric(),
            server_default="0",
            nullable=False,
            comment="Unit price x quantity of those units, before discounts.",
        ),
        sa.Column(
            "stock_at_day_end",
            sa.Integer(),
            nullable=True,
            comment="Quantity in stock in the last snapshot taken up to that day.",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["core.listings.id"],
            name=op.f("fk_listing_daily_metrics_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_listing_daily_metrics_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("metric_date", "listing_id", name=op.f("pk_listing_daily_metrics")),
        schema="analytics",
        comment="One listing's day: views and favorites gained, units sold, revenue, stock.",
    )
    op.create_index(
        "ix_listing_daily_metrics_listing_id", "listing_daily_metrics", ["listing_id"], unique=False, schema="analytics"
    )
    op.create_index(
        "ix_listing_daily_metrics_shop_id_metric_date",
        "listing_daily_metrics",
        ["shop_id", "metric_date"],
        unique=False,
        schema="analytics",
    )
    op.create_table(
        "inventory_alerts",
        sa.Column("alert_date", sa.Date(), nullable=False, comment="The day the stock was looked at."),
        sa.Column("inventory_id", sa.BigInteger(), nullable=False, comment="core.inventory.id of the offering."),
        sa.Column("shop_id", sa.BigInteger(), nullable=False, comment="core.shops.id of the shop."),
        sa.Column("listing_id", sa.BigInteger(), nullable=False, comment="core.listings.id of the listing."),
        sa.Column("sku", sa.String(length=200), nullable=True, comment="The offering's SKU."),
        sa.Column("quantity", sa.Integer(), nullable=False, comment="Quantity in stock."),
        sa.Column(
            "threshold",
            sa.Integer(),
            nullable=False,
            comment="The low-stock threshold that applied (the shop's own, or LOW_STOCK_THRESHOLD).",
        ),
        sa.Column("kind", sa.String(length=20), nullable=False, comment="sold_out (quantity 0) or low_stock."),
        sa.ForeignKeyConstraint(
            ["inventory_id"],
            ["core.inventory.id"],
            name=op.f("fk_inventory_alerts_inventory_id_inventory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["core.listings.id"],
            name=op.f("fk_inventory_alerts_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_inventory_alerts_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_date", "inventory_id", name=op.f("pk_inventory_alerts")),
        schema="analytics",
        comment="Offerings at or below their shop's low-stock threshold, or sold out.",
    )
    op.create_index(
        "ix_inventory_alerts_inventory_id", "inventory_alerts", ["inventory_id"], unique=False, schema="analytics"
    )
    op.create_index(
        "ix_inventory_alerts_listing_id", "inventory_alerts", ["listing_id"], unique=False, schema="analytics"
    )
    op.create_index(
        "ix_inventory_alerts_shop_id_alert_date",
        "inventory_alerts",
        ["shop_id", "alert_date"],
        unique=False,
        schema="analytics",
    )
    op.add_column(
        "shop_daily_metrics",
        sa.Column(
            "orders_per_1000_views",
            sa.Numeric(),
            nullable=True,
            comment="orders / views_gained x 1000; null without views.",
        ),
        schema="analytics",
    )
    op.add_column(
        "shop_daily_metrics",
        sa.Column("repeat_customer_rate", sa.Numeric(), nullable=True, comment="returning_buyers / distinct_buyers."),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "shop_id",
        existing_type=sa.BIGINT(),
        comment="core.shops.id of the shop.",
        existing_nullable=False,
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "metric_date",
        existing_type=sa.DATE(),
        comment="The day, in the analytics time zone.",
        existing_nullable=False,
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "currency_code",
        existing_type=sa.VARCHAR(length=3),
        comment="Currency of the money columns (ISO 4217).",
        existing_nullable=False,
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "orders",
        existing_type=sa.INTEGER(),
        comment="Orders placed (canceled excluded).",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "items_sold",
        existing_type=sa.INTEGER(),
        comment="Units in those orders.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "gross_sales",
        existing_type=sa.NUMERIC(),
        comment="Unit price x quantity, summed.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "discounts",
        existing_type=sa.NUMERIC(),
        comment="Coupons and discounts.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "shipping",
        existing_type=sa.NUMERIC(),
        comment="Shipping charged to buyers.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "tax",
        existing_type=sa.NUMERIC(),
        comment="Sales tax and VAT collected.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "refunds",
        existing_type=sa.NUMERIC(),
        comment="Refunded on these orders so far, whenever refunded (order-date accounting).",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "net_sales",
        existing_type=sa.NUMERIC(),
        comment="gross_sales - discounts - refunds.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "average_order_value",
        existing_type=sa.NUMERIC(),
        comment="(gross_sales - discounts) / orders.",
        existing_nullable=True,
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "distinct_buyers",
        existing_type=sa.INTEGER(),
        comment="Buyers with an order.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "new_buyers",
        existing_type=sa.INTEGER(),
        comment="Buyers whose first order at the shop was that day.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "returning_buyers",
        existing_type=sa.INTEGER(),
        comment="Buyers who had ordered from the shop before.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "views_gained",
        existing_type=sa.INTEGER(),
        comment="Listing views gained (from daily snapshots of Etsy's lifetime counter).",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "favorites_gained",
        existing_type=sa.INTEGER(),
        comment="Listing favorites gained (from daily snapshots).",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "reviews",
        existing_type=sa.INTEGER(),
        comment="Reviews left that day.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "average_rating",
        existing_type=sa.NUMERIC(),
        comment="Mean rating (1-5) of those reviews.",
        existing_nullable=True,
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "computed_at",
        existing_type=postgresql.TIMESTAMP(timezone=True),
        comment="When the row was built.",
        existing_nullable=False,
        existing_server_default=sa.text("now()"),
        schema="analytics",
    )
    op.create_table_comment(
        "shop_daily_metrics",
        "One shop's day in one currency; partitioned by month.",
        existing_comment=None,
        schema="analytics",
    )
    op.create_index("ix_listing_snapshots_snapshot_date", "listing_snapshots", ["snapshot_date"], schema="core")
    op.create_index("ix_orders_shop_id_etsy_buyer_user_id", "orders", ["shop_id", "etsy_buyer_user_id"], schema="core")
    create_views()


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS analytics.{name}")
    op.drop_index("ix_orders_shop_id_etsy_buyer_user_id", table_name="orders", schema="core")
    op.drop_index("ix_listing_snapshots_snapshot_date", table_name="listing_snapshots", schema="core")
    op.drop_table_comment(
        "shop_daily_metrics",
        existing_comment="One shop's day in one currency; partitioned by month.",
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "computed_at",
        existing_type=postgresql.TIMESTAMP(timezone=True),
        comment=None,
        existing_comment="When the row was built.",
        existing_nullable=False,
        existing_server_default=sa.text("now()"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "average_rating",
        existing_type=sa.NUMERIC(),
        comment=None,
        existing_comment="Mean rating (1-5) of those reviews.",
        existing_nullable=True,
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "reviews",
        existing_type=sa.INTEGER(),
        comment=None,
        existing_comment="Reviews left that day.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "favorites_gained",
        existing_type=sa.INTEGER(),
        comment=None,
        existing_comment="Listing favorites gained (from daily snapshots).",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "views_gained",
        existing_type=sa.INTEGER(),
        comment=None,
        existing_comment="Listing views gained (from daily snapshots of Etsy's lifetime counter).",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "returning_buyers",
        existing_type=sa.INTEGER(),
        comment=None,
        existing_comment="Buyers who had ordered from the shop before.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "new_buyers",
        existing_type=sa.INTEGER(),
        comment=None,
        existing_comment="Buyers whose first order at the shop was that day.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "distinct_buyers",
        existing_type=sa.INTEGER(),
        comment=None,
        existing_comment="Buyers with an order.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "average_order_value",
        existing_type=sa.NUMERIC(),
        comment=None,
        existing_comment="(gross_sales - discounts) / orders.",
        existing_nullable=True,
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "net_sales",
        existing_type=sa.NUMERIC(),
        comment=None,
        existing_comment="gross_sales - discounts - refunds.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "refunds",
        existing_type=sa.NUMERIC(),
        comment=None,
        existing_comment="Refunded on these orders so far, whenever refunded (order-date accounting).",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "tax",
        existing_type=sa.NUMERIC(),
        comment=None,
        existing_comment="Sales tax and VAT collected.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "shipping",
        existing_type=sa.NUMERIC(),
        comment=None,
        existing_comment="Shipping charged to buyers.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "discounts",
        existing_type=sa.NUMERIC(),
        comment=None,
        existing_comment="Coupons and discounts.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "gross_sales",
        existing_type=sa.NUMERIC(),
        comment=None,
        existing_comment="Unit price x quantity, summed.",
        existing_nullable=False,
        existing_server_default=sa.text("'0'::numeric"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "items_sold",
        existing_type=sa.INTEGER(),
        comment=None,
        existing_comment="Units in those orders.",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "orders",
        existing_type=sa.INTEGER(),
        comment=None,
        existing_comment="Orders placed (canceled excluded).",
        existing_nullable=False,
        existing_server_default=sa.text("0"),
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "currency_code",
        existing_type=sa.VARCHAR(length=3),
        comment=None,
        existing_comment="Currency of the money columns (ISO 4217).",
        existing_nullable=False,
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "metric_date",
        existing_type=sa.DATE(),
        comment=None,
        existing_comment="The day, in the analytics time zone.",
        existing_nullable=False,
        schema="analytics",
    )
    op.alter_column(
        "shop_daily_metrics",
        "shop_id",
        existing_type=sa.BIGINT(),
        comment=None,
        existing_comment="core.shops.id of the shop.",
        existing_nullable=False,
        schema="analytics",
    )
    op.drop_column("shop_daily_metrics", "repeat_customer_rate", schema="analytics")
    op.drop_column("shop_daily_metrics", "orders_per_1000_views", schema="analytics")
    op.drop_index("ix_inventory_alerts_shop_id_alert_date", table_name="inventory_alerts", schema="analytics")
    op.drop_index("ix_inventory_alerts_listing_id", table_name="inventory_alerts", schema="analytics")
    op.drop_index("ix_inventory_alerts_inventory_id", table_name="inventory_alerts", schema="analytics")
    op.drop_table("inventory_alerts", schema="analytics")
    op.drop_index(
        "ix_listing_daily_metrics_shop_id_metric_date", table_name="listing_daily_metrics", schema="analytics"
    )
    op.drop_index("ix_listing_daily_metrics_listing_id", table_name="listing_daily_metrics", schema="analytics")
    op.drop_table("listing_daily_metrics", schema="analytics")
    op.drop_index("ix_customers_shop_id_as_of_date", table_name="customers", schema="analytics")
    op.drop_table("customers", schema="analytics")
    op.drop_index("ix_customer_segments_shop_id_as_of_date_segment", table_name="customer_segments", schema="analytics")
    op.drop_table("customer_segments", schema="analytics")
