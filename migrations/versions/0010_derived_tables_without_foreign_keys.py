"""derived tables without foreign keys: customers, customer_segments, listing_daily_metrics; one index on customers

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27

These three tables are rebuilt from core by `transform.analytics` (a two-year backfill writes 4.4 million rows
into each snapshot table and 1.5 million listing days) and hold no fact of their own. Their foreign keys checked
every written row against core.shops and core.listings with a trigger per row: of the snapshot tables' insert,
95 s of it against 33 s without (bench/analytics.py, 100 shops x 730 days), the largest single cost of a backfill.
The rows come from core's own rows, so the check can never fail; the app deletes no shop or listing, so the
cascade never ran either (a shop deleted by hand leaves its derived rows until the next rebuild of those days).

`analytics.customers` loses its second index too: it cost another write per row for reads the primary key
(as_of_date, shop_id, etsy_buyer_user_id) serves as well, since every read picks a day (the unscored-customers
check, a backfill's counts, the rebuild's deletes); only an analyst's scan of one shop's whole history reads the
table through, rare and bounded by the month ends kept. `customer_segments` keeps its (shop_id, as_of_date,
segment) index: `segment_sizes` looks up each shop's latest day with it (without it, a shop's sizes took minutes
on two years of snapshots). Primary keys, the listing days' indexes, table and column comments and row-level
security (0006) stay as they were.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column, referenced table): the foreign keys 0003 created, named by the naming convention.
FOREIGN_KEYS = (
    ("customers", "shop_id", "shops"),
    ("customer_segments", "shop_id", "shops"),
    ("listing_daily_metrics", "shop_id", "shops"),
    ("listing_daily_metrics", "listing_id", "listings"),
)


def _name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


# (index, table, columns): from 0003.
INDEXES = (("ix_customers_shop_id_as_of_date", "customers", ["shop_id", "as_of_date"]),)


def upgrade() -> None:
    for table, column, referred in FOREIGN_KEYS:
        op.drop_constraint(op.f(_name(table, column, referred)), table, schema="analytics", type_="foreignkey")
    for index, table, _ in INDEXES:
        op.drop_index(index, table_name=table, schema="analytics")


def downgrade() -> None:
    """Rows whose shop or listing is gone are deleted first (the cascade would have), so the keys can be added."""
    for index, table, columns in INDEXES:
        op.create_index(index, table, columns, unique=False, schema="analytics")
    for table, column, referred in FOREIGN_KEYS:
        op.execute(
            f"DELETE FROM analytics.{table} t WHERE NOT EXISTS "
            f"(SELECT 1 FROM core.{referred} r WHERE r.id = t.{column})"
        )
        op.create_foreign_key(
            op.f(_name(table, column, referred)),
            table,
            referred,
            [column],
            ["id"],
            source_schema="analytics",
            referent_schema="core",
            ondelete="CASCADE",
        )
