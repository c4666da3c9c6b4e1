"""analyst roles: a scope table analysts cannot read, row-level security on analytics, analyst-safe views

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28

Analysts get SELECT on `analytics` only (`etsy-pipeline db grant-analyst`). Every analytics table has row-level
security with one policy, `analyst_scope`: a row is visible when its shop is in
`analytics.visible_shop_ids(current_user)`. That function runs as the owner (SECURITY DEFINER) so it can read
`analyst_access.scopes`, a schema analysts have no right on, and `core.shops`; it answers only for a role the
session may act as, so an analyst cannot ask what another role sees. The application owns the tables and
bypasses the policies; its own role sees every shop through the views too.

The analyst views read `core` as their owner, so each filters on the same function itself and exposes no
personal data: `analytics.shops` and `analytics.listings` replace the joins to `core.shops` / `core.listings`.
Month partitions of `shop_daily_metrics` created later get the same protection from the partition function.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VISIBLE = "shop_id IN (SELECT analytics.visible_shop_ids(current_user))"

FUNCTIONS = """
CREATE FUNCTION analytics.visible_shop_ids(who name) RETURNS SETOF bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.id FROM core.shops s
    WHERE pg_has_role(session_user, who, 'MEMBER')
      AND CASE
          WHEN EXISTS (SELECT 1 FROM analyst_access.scopes a WHERE a.role_name = who)
          THEN EXISTS (SELECT 1 FROM analyst_access.scopes a
                       WHERE a.role_name = who AND (a.user_id IS NULL OR a.user_id = s.user_id))
          ELSE pg_has_role(who, (SELECT n.nspowner FROM pg_namespace n WHERE n.nspname = 'analytics'), 'USAGE')
      END
$$;
REVOKE ALL ON FUNCTION analytics.visible_shop_ids(name) FROM PUBLIC;
COMMENT ON FUNCTION analytics.visible_shop_ids(name) IS
    'Shops the role may see: its scope for an analyst role, every shop for the application, none otherwise.';

CREATE FUNCTION analyst_access.protect(rel regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', rel);
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = rel AND attname = 'shop_id' AND NOT attisdropped)
       AND NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = rel AND polname = 'analyst_scope') THEN
        EXECUTE format(
            'CREATE POLICY analyst_scope ON %s FOR SELECT USING '
            '(shop_id IN (SELECT analytics.visible_shop_ids(current_user)))', rel);
    END IF;
END
$$;
REVOKE ALL ON FUNCTION analyst_access.protect(regclass) FROM PUBLIC;
"""

PARTITIONS = """
CREATE OR REPLACE FUNCTION analytics.ensure_shop_daily_metrics_partitions(from_date date, to_date date)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    month_start date := date_trunc('month', from_date)::date;
    part_name text;
    created integer := 0;
BEGIN
    IF from_date IS NULL OR to_date IS NULL OR to_date < from_date THEN
        RAISE EXCEPTION 'invalid partition range: from_date=% to_date=%', from_date, to_date;
    END IF;
    -- Serialise concurrent callers: two sessions creating the same partition would otherwise race.
    PERFORM pg_advisory_xact_lock(hashtext('analytics.shop_daily_metrics partitions'));
    WHILE month_start <= to_date LOOP
        part_name := format('shop_daily_metrics_y%sm%s', to_char(month_start, 'YYYY'), to_char(month_start, 'MM'));
        IF to_regclass(format('analytics.%I', part_name)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE analytics.%I PARTITION OF analytics.shop_daily_metrics FOR VALUES FROM (%L) TO (%L)',
                part_name, month_start, (month_start + interval '1 month')::date
            );
            {protect}
            created := created + 1;
        END IF;
        month_start := (month_start + interval '1 month')::date;
    END LOOP;
    RETURN created;
END
$$
"""
PROTECT_PARTITION = "PERFORM analyst_access.protect(format('analytics.%I', part_name)::regclass);"

ANALYTICS_TABLES = """
SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'analytics' AND c.relkind IN ('r', 'p')
"""

DIMENSIONS = {
    "shops": (
        """
        SELECT s.id AS shop_id, s.etsy_shop_id, s.shop_name, s.title, s.currency_code, s.url, s.is_vacation,
            s.listing_active_count, s.transaction_sold_count, s.num_favorers, s.review_count, s.review_average,
            s.etsy_created_at, s.last_synced_at
        FROM core.shops s WHERE s.id IN (SELECT analytics.visible_shop_ids(current_user))
        """,
        "The shops the reader may see, without the owner, the settings or the sync errors (core.shops).",
        {
            "shop_id": "core.shops.id of the shop (the shop_id of every analytics table).",
            "etsy_shop_id": "Etsy's shop id.",
            "shop_name": "The shop's Etsy name.",
            "title": "The shop's headline.",
            "currency_code": "The shop's currency (ISO 4217).",
            "url": "The shop's page on Etsy.",
            "is_vacation": "Whether the shop is in vacation mode.",
            "listing_active_count": "Active listings, as Etsy counts them.",
            "transaction_sold_count": "Items sold in the shop's life, as Etsy counts them.",
            "num_favorers": "People who favorited the shop.",
            "review_count": "Reviews received.",
            "review_average": "Mean rating of the reviews.",
            "etsy_created_at": "When the shop opened on Etsy.",
            "last_synced_at": "When etsy-pipeline last pulled the shop.",
        },
    ),
    "listings": (
        f"""
        SELECT l.id AS listing_id, l.shop_id, l.etsy_listing_id, l.title, l.state, l.price, l.currency_code,
            l.quantity, l.tags, l.taxonomy_id, l.url, l.views, l.num_favorers, l.etsy_created_at, l.etsy_updated_at
        FROM core.listings l WHERE l.{VISIBLE}
        """,
        "The listings of the shops the reader may see (core.listings, without descriptions).",
        {
            "listing_id": "core.listings.id of the listing (the listing_id of every analytics table).",
            "shop_id": "core.shops.id of the shop.",
            "etsy_listing_id": "Etsy's listing id.",
            "title": "The listing's current title.",
            "state": "active, inactive, draft, sold_out, expired or removed.",
            "price": "The listing's price as Etsy shows it.",
            "currency_code": "Currency of price (ISO 4217).",
            "quantity": "Quantity in stock, all offerings.",
            "tags": "The listing's tags.",
            "taxonomy_id": "Etsy's category of the listing.",
            "url": "The listing's page on Etsy.",
            "views": "Lifetime views, as Etsy counts them.",
            "num_favorers": "People who favorited the listing.",
            "etsy_created_at": "When the listing was created on Etsy.",
            "etsy_updated_at": "When Etsy last changed the listing.",
        },
    ),
}

SALES = """
        SELECT s.shop_id, s.shop_name, m.currency_code, sum(m.orders) AS orders,
            sum(m.items_sold) AS items_sold, sum(m.gross_sales) AS gross_sales, sum(m.discounts) AS discounts,
            sum(m.refunds) AS refunds, sum(m.net_sales) AS net_sales,
            CASE WHEN sum(m.orders) > 0 THEN round((sum(m.gross_sales) - sum(m.discounts)) / sum(m.orders), 2) END
                AS average_order_value,
            sum(m.new_buyers) AS new_buyers, sum(m.returning_buyers) AS returning_buyers
        FROM analytics.shop_daily_metrics m JOIN {shops} ON s.{id} = m.shop_id
        WHERE m.metric_date > current_date - 30{filter}
        GROUP BY s.{id}, s.shop_name, m.currency_code
"""
BEST = """
        SELECT l.shop_id, l.{id} AS listing_id, l.etsy_listing_id, l.title, sum(d.units_sold) AS units_sold,
            sum(d.revenue) AS revenue, sum(d.views_gained) AS views_gained,
            rank() OVER (PARTITION BY l.shop_id ORDER BY sum(d.revenue) DESC) AS revenue_rank
        FROM analytics.listing_daily_metrics d JOIN {listings} ON l.{id} = d.listing_id
        WHERE d.metric_date > current_date - 30{filter}
        GROUP BY l.shop_id, l.{id}, l.etsy_listing_id, l.title
"""
SEGMENTS = """
        SELECT cs.shop_id, cs.as_of_date, cs.segment, count(*) AS customers, sum(cs.monetary) AS monetary
        FROM analytics.customer_segments cs
        WHERE cs.as_of_date = (SELECT max(x.as_of_date) FROM analytics.customer_segments x WHERE x.shop_id = cs.shop_id)
            {filter}
        GROUP BY cs.shop_id, cs.as_of_date, cs.segment
"""


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _replace_views(analyst: bool) -> None:
    """The 0003 views over the analyst dimensions with the scope filter (or, going down, over core as before)."""
    if analyst:
        op.execute(
            SALES_VIEW.format(body=SALES.format(shops="analytics.shops s", id="shop_id", filter=f" AND m.{VISIBLE}"))
        )
        op.execute(
            BEST_VIEW.format(
                body=BEST.format(listings="analytics.listings l", id="listing_id", filter=f" AND d.{VISIBLE}")
            )
        )
        op.execute(SEGMENTS_VIEW.format(body=SEGMENTS.format(filter=f"AND cs.{VISIBLE}")))
    else:
        op.execute(
            SALES_VIEW.format(
                body=SALES.format(shops="core.shops s", id="id", filter="").replace("s.shop_id,", "s.id AS shop_id,")
            )
        )
        op.execute(BEST_VIEW.format(body=BEST.format(listings="core.listings l", id="id", filter="")))
        op.execute(SEGMENTS_VIEW.format(body=SEGMENTS.format(filter="")))


SALES_VIEW = "CREATE OR REPLACE VIEW analytics.sales_last_30_days AS {body}"
BEST_VIEW = "CREATE OR REPLACE VIEW analytics.best_listings_last_30_days AS {body}"
SEGMENTS_VIEW = "CREATE OR REPLACE VIEW analytics.segment_sizes AS {body}"


def upgrade() -> None:
    op.execute("CREATE SCHEMA analyst_access")
    op.execute("REVOKE ALL ON SCHEMA analyst_access FROM PUBLIC")
    op.execute(
        "COMMENT ON SCHEMA analyst_access IS 'Which shops each analyst role may see; never granted to analysts.'"
    )
    op.execute(
        """
        CREATE TABLE analyst_access.scopes (
            role_name name PRIMARY KEY,
            user_id bigint REFERENCES core.users (id) ON DELETE CASCADE,
            created_role boolean NOT NULL DEFAULT false,
            granted_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_scopes_user_id ON analyst_access.scopes (user_id)")
    op.execute(
        "COMMENT ON TABLE analyst_access.scopes IS 'An analyst role and the user whose shops it sees "
        "(NULL: every shop); created_role: grant-analyst created the role, so revoke-analyst drops it.'"
    )
    op.execute(FUNCTIONS)
    op.execute(PARTITIONS.replace("{protect}", PROTECT_PARTITION))
    op.execute(f"SELECT analyst_access.protect(t::regclass) FROM ({ANALYTICS_TABLES}) AS tables (t)")
    for name, (body, comment, columns) in DIMENSIONS.items():
        op.execute(f"CREATE VIEW analytics.{name} AS {body}")
        op.execute(f"COMMENT ON VIEW analytics.{name} IS {_quote(comment)}")
        for column, text in columns.items():
            op.execute(f"COMMENT ON COLUMN analytics.{name}.{column} IS {_quote(text)}")
    _replace_views(analyst=True)


def downgrade() -> None:
    _replace_views(analyst=False)
    for name in DIMENSIONS:
        op.execute(f"DROP VIEW analytics.{name}")
    op.execute(
        "DO $$ DECLARE t text; BEGIN FOR t IN " + ANALYTICS_TABLES + " LOOP "
        "EXECUTE format('DROP POLICY IF EXISTS analyst_scope ON %s', t); "
        "EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', t); END LOOP; END $$"
    )
    op.execute(PARTITIONS.replace("{protect}", ""))
    op.execute("DROP FUNCTION analyst_access.protect(regclass)")
    op.execute("DROP FUNCTION analytics.visible_shop_ids(name)")
    op.execute("DROP SCHEMA analyst_access CASCADE")
