"""sales view with fees: analytics.sales_last_30_days sums Etsy's fees and the net revenue after them

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

Migration 0008 gave `analytics.shop_daily_metrics` the seller's Etsy fees and net revenue after fees, but the
30-day sales view analysts read first still stopped at net sales. The view is replaced with the two sums appended
(CREATE OR REPLACE VIEW may only add columns at the end), keeping the analyst scope filter of 0006; the columns
are commented like the others.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VISIBLE = "shop_id IN (SELECT analytics.visible_shop_ids(current_user))"
SALES = """
CREATE OR REPLACE VIEW analytics.sales_last_30_days AS
        SELECT s.shop_id, s.shop_name, m.currency_code, sum(m.orders) AS orders,
            sum(m.items_sold) AS items_sold, sum(m.gross_sales) AS gross_sales, sum(m.discounts) AS discounts,
            sum(m.refunds) AS refunds, sum(m.net_sales) AS net_sales,
            CASE WHEN sum(m.orders) > 0 THEN round((sum(m.gross_sales) - sum(m.discounts)) / sum(m.orders), 2) END
                AS average_order_value,
            sum(m.new_buyers) AS new_buyers, sum(m.returning_buyers) AS returning_buyers{fees}
        FROM analytics.shop_daily_metrics m JOIN analytics.shops s ON s.shop_id = m.shop_id
        WHERE m.metric_date > current_date - 30 AND m.{visible}
        GROUP BY s.shop_id, s.shop_name, m.currency_code
"""
FEES = ",\n            sum(m.etsy_fees) AS etsy_fees, sum(m.net_revenue_after_fees) AS net_revenue_after_fees"
COMMENTS = {
    "etsy_fees": "Etsy's fees on the orders of these days, summed.",
    "net_revenue_after_fees": "What Etsy pays for the orders of these days after refunds and fees, summed.",
}


def upgrade() -> None:
    op.execute(SALES.format(fees=FEES, visible=VISIBLE))
    for column, comment in COMMENTS.items():
        op.execute(
            f"COMMENT ON COLUMN analytics.sales_last_30_days.{column} IS '{comment.replace(chr(39), chr(39) * 2)}'"
        )


def downgrade() -> None:
    """A view cannot drop columns in place: it is replaced without them, keeping its comments."""
    bind = op.get_bind()
    view = "analytics.sales_last_30_days"
    described = bind.execute(sa.text(f"SELECT obj_description('{view}'::regclass, 'pg_class')")).scalar()
    columns = bind.execute(
        sa.text(
            f"SELECT a.attname, col_description('{view}'::regclass, a.attnum) FROM pg_attribute a "
            f"WHERE a.attrelid = '{view}'::regclass AND a.attnum > 0 AND NOT a.attisdropped"
        )
    ).all()
    op.execute(f"DROP VIEW {view}")
    op.execute(SALES.format(fees="", visible=VISIBLE))
    if described:
        bind.execute(sa.text(f"COMMENT ON VIEW {view} IS {_quote(described)}"))
    for column, comment in columns:
        if comment and column not in COMMENTS:
            bind.execute(sa.text(f"COMMENT ON COLUMN {view}.{column} IS {_quote(comment)}"))


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
