"""core and analytics schemas

The typed tables the pipeline shapes Etsy data into, the push outbox, the sync log, and the month-partitioned
daily metrics table with the function that creates the partitions a date range needs.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


IMMUTABLE_ARRAY_TO_TEXT = """
CREATE OR REPLACE FUNCTION core.immutable_array_to_text(values_ text[]) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT coalesce(array_to_string(values_, ' '), '') $$
"""

ENSURE_PARTITIONS = """
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
            created := created + 1;
        END IF;
        month_start := (month_start + interval '1 month')::date;
    END LOOP;
    RETURN created;
END
$$
"""


def upgrade() -> None:
    op.execute("CREATE SCHEMA IF NOT EXISTS core")
    op.execute("CREATE SCHEMA IF NOT EXISTS analytics")
    op.execute(IMMUTABLE_ARRAY_TO_TEXT)
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("etsy_user_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("etsy_user_id", name=op.f("uq_users_etsy_user_id")),
        schema="core",
    )
    op.create_table(
        "oauth_tokens",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("access_token_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refresh_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("scopes", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="active", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('active', 'needs_reauth')", name=op.f("ck_oauth_tokens_status")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["core.users.id"], name=op.f("fk_oauth_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_tokens")),
        sa.UniqueConstraint("user_id", name=op.f("uq_oauth_tokens_user_id")),
        schema="core",
    )
    op.create_table(
        "shops",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("etsy_shop_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("etsy_user_id", sa.BigInteger(), nullable=True),
        sa.Column("shop_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("currency_code", sa.String(length=3), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("is_vacation", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("listing_active_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("transaction_sold_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("num_favorers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("review_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("review_average", sa.Numeric(), nullable=True),
        sa.Column("etsy_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etsy_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sync_status", sa.String(length=20), server_default="never", nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_sync_error", sa.Text(), nullable=True),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=True),
        sa.Column("settings", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "sync_status IN ('never', 'running', 'ok', 'failed', 'needs_reauth', 'quota_exhausted')",
            name=op.f("ck_shops_sync_status"),
        ),
        sa.CheckConstraint("low_stock_threshold IS NULL OR low_stock_threshold >= 0", name=op.f("ck_shops_low_stock")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["core.users.id"], name=op.f("fk_shops_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shops")),
        sa.UniqueConstraint("etsy_shop_id", name=op.f("uq_shops_etsy_shop_id")),
        schema="core",
    )
    op.create_index(op.f("ix_shops_user_id"), "shops", ["user_id"], unique=False, schema="core")
    op.create_table(
        "shop_daily_metrics",
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("metric_date", sa.Date(), nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("orders", sa.Integer(), server_default="0", nullable=False),
        sa.Column("items_sold", sa.Integer(), server_default="0", nullable=False),
        sa.Column("gross_sales", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("discounts", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("shipping", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("tax", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("refunds", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("net_sales", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("average_order_value", sa.Numeric(), nullable=True),
        sa.Column("distinct_buyers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("new_buyers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("returning_buyers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("views_gained", sa.Integer(), server_default="0", nullable=False),
        sa.Column("favorites_gained", sa.Integer(), server_default="0", nullable=False),
        sa.Column("reviews", sa.Integer(), server_default="0", nullable=False),
        sa.Column("average_rating", sa.Numeric(), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["core.shops.id"],
            name=op.f("fk_shop_daily_metrics_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("shop_id", "metric_date", "currency_code", name=op.f("pk_shop_daily_metrics")),
        schema="analytics",
        postgresql_partition_by="RANGE (metric_date)",
    )
    op.execute(ENSURE_PARTITIONS)
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("etsy_buyer_user_id", sa.BigInteger(), nullable=False),
        sa.Column("name_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("email_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("country_iso", sa.String(length=2), nullable=True),
        sa.Column("first_order_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_order_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("order_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("units", sa.Integer(), server_default="0", nullable=False),
        sa.Column("total_spent", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_customers_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("shop_id", "etsy_buyer_user_id", name=op.f("uq_customers_shop_id_etsy_buyer_user_id")),
        schema="core",
    )
    op.create_index(
        "ix_customers_shop_id_last_order_at",
        "customers",
        ["shop_id", "last_order_at"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "listings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("etsy_listing_id", sa.BigInteger(), nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("price", sa.Numeric(), nullable=True),
        sa.Column("currency_code", sa.String(length=3), nullable=True),
        sa.Column("quantity", sa.Integer(), server_default="0", nullable=False),
        sa.Column("tags", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("materials", sa.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("taxonomy_id", sa.BigInteger(), nullable=True),
        sa.Column("shop_section_id", sa.BigInteger(), nullable=True),
        sa.Column("listing_type", sa.String(length=20), nullable=True),
        sa.Column("who_made", sa.String(length=40), nullable=True),
        sa.Column("when_made", sa.String(length=40), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("views", sa.Integer(), server_default="0", nullable=False),
        sa.Column("num_favorers", sa.Integer(), server_default="0", nullable=False),
        sa.Column("has_variations", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("etsy_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etsy_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etsy_updated_timestamp", sa.BigInteger(), nullable=True),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed(
                "setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('english'::regconfig, core.immutable_array_to_text(tags)), 'B') || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'C')",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "state IN ('active', 'inactive', 'sold_out', 'draft', 'expired', 'removed')",
            name=op.f("ck_listings_state"),
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_listings_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listings")),
        sa.UniqueConstraint("etsy_listing_id", name=op.f("uq_listings_etsy_listing_id")),
        schema="core",
    )
    op.create_index(
        "ix_listings_search_vector",
        "listings",
        ["search_vector"],
        unique=False,
        schema="core",
        postgresql_using="gin",
    )
    op.create_index(op.f("ix_listings_shop_id"), "listings", ["shop_id"], unique=False, schema="core")
    op.create_index("ix_listings_shop_id_state_id", "listings", ["shop_id", "state", "id"], unique=False, schema="core")
    op.create_table(
        "pending_changes",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by_user_id", sa.BigInteger(), nullable=True),
        sa.Column("entity_type", sa.String(length=20), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("change_type", sa.String(length=30), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("base_updated_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("priority", sa.SmallInteger(), server_default="5", nullable=False),
        sa.Column("status", sa.String(length=20), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=80), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "change_type IN ('inventory_quantity', 'inventory_update', 'listing_update', 'shipment', 'order_status')",
            name=op.f("ck_pending_changes_change_type"),
        ),
        sa.CheckConstraint(
            "entity_type IN ('listing', 'inventory', 'receipt')", name=op.f("ck_pending_changes_entity_type")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'in_flight', 'confirmed', 'conflict', 'failed')",
            name=op.f("ck_pending_changes_status"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_pending_changes_attempts")),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["core.users.id"],
            name=op.f("fk_pending_changes_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_pending_changes_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_changes")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_pending_changes_idempotency_key")),
        schema="core",
    )
    op.create_index(
        op.f("ix_pending_changes_created_by_user_id"),
        "pending_changes",
        ["created_by_user_id"],
        unique=False,
        schema="core",
    )
    op.create_index(
        "ix_pending_changes_due",
        "pending_changes",
        ["priority", "next_attempt_at"],
        unique=False,
        schema="core",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_pending_changes_entity",
        "pending_changes",
        ["entity_type", "entity_id"],
        unique=False,
        schema="core",
    )
    op.create_index(op.f("ix_pending_changes_shop_id"), "pending_changes", ["shop_id"], unique=False, schema="core")
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="running", nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("api_calls", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("resume_state", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("dagster_run_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'partial', 'quota_exhausted')",
            name=op.f("ck_sync_runs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_sync_runs_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
        schema="core",
    )
    op.create_index(
        "ix_sync_runs_shop_id_started_at", "sync_runs", ["shop_id", "started_at"], unique=False, schema="core"
    )
    op.create_table(
        "inventory",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("listing_id", sa.BigInteger(), nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("variation_key", sa.Text(), server_default="", nullable=False),
        sa.Column("etsy_product_id", sa.BigInteger(), nullable=True),
        sa.Column("etsy_offering_id", sa.BigInteger(), nullable=True),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("property_values", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("price", sa.Numeric(), nullable=True),
        sa.Column("currency_code", sa.String(length=3), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("is_enabled", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("is_deleted", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_inventory_quantity")),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["core.listings.id"],
            name=op.f("fk_inventory_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_inventory_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inventory")),
        sa.UniqueConstraint("listing_id", "variation_key", name=op.f("uq_inventory_listing_id_variation_key")),
        schema="core",
    )
    op.create_index(op.f("ix_inventory_shop_id"), "inventory", ["shop_id"], unique=False, schema="core")
    op.create_index("ix_inventory_shop_id_quantity", "inventory", ["shop_id", "quantity"], unique=False, schema="core")
    op.create_index(op.f("ix_inventory_sku"), "inventory", ["sku"], unique=False, schema="core")
    op.create_table(
        "listing_images",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("etsy_image_id", sa.BigInteger(), nullable=False),
        sa.Column("listing_id", sa.BigInteger(), nullable=False),
        sa.Column("rank", sa.Integer(), server_default="1", nullable=False),
        sa.Column("url_570xn", sa.Text(), nullable=True),
        sa.Column("url_fullxfull", sa.Text(), nullable=True),
        sa.Column("full_width", sa.Integer(), nullable=True),
        sa.Column("full_height", sa.Integer(), nullable=True),
        sa.Column("alt_text", sa.Text(), nullable=True),
        sa.Column("etsy_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["core.listings.id"],
            name=op.f("fk_listing_images_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_images")),
        sa.UniqueConstraint("etsy_image_id", name=op.f("uq_listing_images_etsy_image_id")),
        schema="core",
    )
    op.create_index(op.f("ix_listing_images_listing_id"), "listing_images", ["listing_id"], unique=False, schema="core")
    op.create_table(
        "listing_snapshots",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("listing_id", sa.BigInteger(), nullable=False),
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("num_favorers", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["core.listings.id"],
            name=op.f("fk_listing_snapshots_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_snapshots")),
        sa.UniqueConstraint("listing_id", "snapshot_date", name=op.f("uq_listing_snapshots_listing_id_snapshot_date")),
        schema="core",
    )
    op.create_table(
        "listing_videos",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("etsy_video_id", sa.BigInteger(), nullable=False),
        sa.Column("listing_id", sa.BigInteger(), nullable=False),
        sa.Column("video_url", sa.Text(), nullable=True),
        sa.Column("thumbnail_url", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("video_state", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["core.listings.id"],
            name=op.f("fk_listing_videos_listing_id_listings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_videos")),
        sa.UniqueConstraint("etsy_video_id", name=op.f("uq_listing_videos_etsy_video_id")),
        schema="core",
    )
    op.create_index(op.f("ix_listing_videos_listing_id"), "listing_videos", ["listing_id"], unique=False, schema="core")
    op.create_table(
        "orders",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("etsy_receipt_id", sa.BigInteger(), nullable=False),
        sa.Column("shop_id", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("etsy_buyer_user_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("is_paid", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_shipped", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("is_gift", sa.Boolean(), server_default="false", nullable=False),
        sa.Column("payment_method", sa.String(length=40), nullable=True),
        sa.Column("country_iso", sa.String(length=2), nullable=True),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("grandtotal", sa.Numeric(), nullable=False),
        sa.Column("subtotal", sa.Numeric(), nullable=False),
        sa.Column("total_price", sa.Numeric(), nullable=False),
        sa.Column("total_shipping_cost", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("total_tax_cost", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("total_vat_cost", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("discount_amt", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("gift_wrap_price", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("refunded_amount", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("buyer_name_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("buyer_email_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("shipping_address_encrypted", sa.LargeBinary(), nullable=True),
        sa.Column("etsy_created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("etsy_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("etsy_updated_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["core.customers.id"],
            name=op.f("fk_orders_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["core.shops.id"], name=op.f("fk_orders_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("etsy_receipt_id", name=op.f("uq_orders_etsy_receipt_id")),
        schema="core",
    )
    op.create_index(op.f("ix_orders_customer_id"), "orders", ["customer_id"], unique=False, schema="core")
    op.create_index(op.f("ix_orders_shop_id"), "orders", ["shop_id"], unique=False, schema="core")
    op.create_index(
        "ix_orders_shop_id_etsy_created_at",
        "orders",
        ["shop_id", "etsy_created_at"],
        unique=False,
        schema="core",
    )
    op.create_index(
        "ix_orders_shop_id_status_etsy_created_at",
        "orders",
        ["shop_id", "status", "etsy_created_at"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "order_items",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("etsy_transaction_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("listing_id", sa.BigInteger(), nullable=True),
        sa.Column("etsy_listing_id", sa.BigInteger(), nullable=True),
        sa.Column("etsy_product_id", sa.BigInteger(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("sku", sa.Text(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(), nullable=False),
        sa.Column("shipping_cost", sa.Numeric(), server_default="0", nullable=False),
        sa.Column("currency_code", sa.String(length=3), nullable=False),
        sa.Column("variations", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False),
        sa.Column("etsy_created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["listing_id"],
            ["core.listings.id"],
            name=op.f("fk_order_items_listing_id_listings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["core.orders.id"], name=op.f("fk_order_items_order_id_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
        sa.UniqueConstraint("etsy_transaction_id", name=op.f("uq_order_items_etsy_transaction_id")),
        schema="core",
    )
    op.create_index(op.f("ix_order_items_listing_id"), "order_items", ["listing_id"], unique=False, schema="core")
    op.create_index(op.f("ix_order_items_order_id"), "order_items", ["order_id"], unique=False, schema="core")


def downgrade() -> None:
    op.drop_index(op.f("ix_order_items_order_id"), table_name="order_items", schema="core")
    op.drop_index(op.f("ix_order_items_listing_id"), table_name="order_items", schema="core")
    op.drop_table("order_items", schema="core")
    op.drop_index("ix_orders_shop_id_status_etsy_created_at", table_name="orders", schema="core")
    op.drop_index("ix_orders_shop_id_etsy_created_at", table_name="orders", schema="core")
    op.drop_index(op.f("ix_orders_shop_id"), table_name="orders", schema="core")
    op.drop_index(op.f("ix_orders_customer_id"), table_name="orders", schema="core")
    op.drop_table("orders", schema="core")
    op.drop_index(op.f("ix_listing_videos_listing_id"), table_name="listing_videos", schema="core")
    op.drop_table("listing_videos", schema="core")
    op.drop_table("listing_snapshots", schema="core")
    op.drop_index(op.f("ix_listing_images_listing_id"), table_name="listing_images", schema="core")
    op.drop_table("listing_images", schema="core")
    op.drop_index(op.f("ix_inventory_sku"), table_name="inventory", schema="core")
    op.drop_index("ix_inventory_shop_id_quantity", table_name="inventory", schema="core")
    op.drop_index(op.f("ix_inventory_shop_id"), table_name="inventory", schema="core")
    op.drop_table("inventory", schema="core")
    op.drop_index("ix_sync_runs_shop_id_started_at", table_name="sync_runs", schema="core")
    op.drop_table("sync_runs", schema="core")
    op.drop_index(op.f("ix_pending_changes_shop_id"), table_name="pending_changes", schema="core")
    op.drop_index("ix_pending_changes_entity", table_name="pending_changes", schema="core")
    op.drop_index(
        "ix_pending_changes_due",
        table_name="pending_changes",
        schema="core",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(op.f("ix_pending_changes_created_by_user_id"), table_name="pending_changes", schema="core")
    op.drop_table("pending_changes", schema="core")
    op.drop_index("ix_listings_shop_id_state_id", table_name="listings", schema="core")
    op.drop_index(op.f("ix_listings_shop_id"), table_name="listings", schema="core")
    op.drop_index("ix_listings_search_vector", table_name="listings", schema="core", postgresql_using="gin")
    op.drop_table("listings", schema="core")
    op.drop_index("ix_customers_shop_id_last_order_at", table_name="customers", schema="core")
    op.drop_table("customers", schema="core")
    op.execute("DROP FUNCTION IF EXISTS analytics.ensure_shop_daily_metrics_partitions(date, date)")
    # Dropping the partitioned parent drops its month partitions with it.
    op.drop_table("shop_daily_metrics", schema="analytics")
    op.drop_index(op.f("ix_shops_user_id"), table_name="shops", schema="core")
    op.drop_table("shops", schema="core")
    op.drop_table("oauth_tokens", schema="core")
    op.drop_table("users", schema="core")
    op.execute("DROP FUNCTION IF EXISTS core.immutable_array_to_text(text[])")
    op.execute("DROP SCHEMA IF EXISTS analytics")
    op.execute("DROP SCHEMA IF EXISTS core")
