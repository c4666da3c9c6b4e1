"""Raw → core for listings, their images and the daily snapshot of their counters.

A listing read again replaces its images (those Etsy no longer lists are removed). After a complete scan of
every state, a listing Etsy no longer returns is marked `removed`. Etsy's `views` and `num_favorers` are
lifetime counters, so each pull snapshots them per day (analytics takes the day-to-day difference).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from etsy_pipeline.storage.upsert import upsert_sql
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.statements import IN_LOADS, Children, changed, money, remove_missing, run

LISTING_COLUMNS = (
    "etsy_listing_id", "shop_id", "title", "description", "state", "price", "currency_code", "quantity", "tags",
    "materials", "taxonomy_id", "shop_section_id", "listing_type", "who_made", "when_made", "url", "views",
    "num_favorers", "has_variations", "etsy_created_at", "etsy_updated_at", "etsy_updated_timestamp",
)  # fmt: skip
# Rewritten only when one of these changed (the others follow Etsy's own stamp).
LISTING_COMPARED = (
    "title", "description", "state", "price", "quantity", "tags", "views", "num_favorers", "etsy_updated_timestamp",
    "shop_section_id", "materials",
)  # fmt: skip


def _text_array(raw: RawSchema, column: str) -> str:
    if not raw.has("listings", column):
        return "'{}'::text[]"
    return f"coalesce(ARRAY(SELECT jsonb_array_elements_text(l.\"{column}\"::jsonb)), '{{}}')"


def shape_listings(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("listings"):
        return 0
    c = raw.col
    source = f"""
        SELECT l.listing_id, :shop_id, l.title, l.description, l.state, {money(raw, "listings", "price", "l")},
            l.price__currency_code, l.quantity, {_text_array(raw, "tags")}, {_text_array(raw, "materials")},
            {c("listings", "taxonomy_id", "l", "bigint")}, {c("listings", "shop_section_id", "l", "bigint")},
            l.listing_type, {c("listings", "who_made", "l", "text")}, {c("listings", "when_made", "l", "text")},
            l.url, l.views, l.num_favorers, l.has_variations, to_timestamp(l.created_timestamp),
            to_timestamp(l.updated_timestamp), l.updated_timestamp
        FROM {raw.table("listings")} l
        WHERE {IN_LOADS.format(a="l")}"""
    update = [col for col in LISTING_COLUMNS if col not in ("etsy_listing_id", "shop_id", "etsy_created_at")]
    sql = upsert_sql(
        "core.listings", LISTING_COLUMNS, source, key=["etsy_listing_id"], update=update, compare=LISTING_COMPARED
    )
    return run(conn, sql, p)


def mark_removed_listings(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    """After a complete scan (`seen`: every listing it returned, changed or not; unchanged ones were not loaded),
    a listing Etsy no longer returns in any state is gone from the shop."""
    if not p.get("complete"):
        return 0
    return run(
        conn,
        """
        UPDATE core.listings cl SET state = 'removed', updated_at = now()
        WHERE cl.shop_id = :shop_id AND cl.state <> 'removed'
          AND cl.etsy_listing_id NOT IN (SELECT unnest(CAST(:seen AS bigint[])))  -- hashed: 10,000 ids cost nothing
        """,
        p,
    )


IMAGE_COLUMNS = (
    "etsy_image_id", "listing_id", "rank", "url_570xn", "url_fullxfull", "full_width", "full_height", "alt_text",
    "etsy_created_at",
)  # fmt: skip

IMAGE_ROWS = Children(
    "core.listing_images", "listing_id", "core.listings", "listing_id", "etsy_image_id", "listing_image_id"
)


def shape_images(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("listings__images"):
        return 0
    c, images = raw.col, "listings__images"
    parents = changed(raw.table("listings"), "l", "listing_id")
    source = f"""
        SELECT im.listing_image_id, cl.id, im.rank, {c(images, "url_570x_n", "im", "text")}, im.url_fullxfull,
            {c(images, "full_width", "im", "bigint")}, {c(images, "full_height", "im", "bigint")},
            {c(images, "alt_text", "im", "text")}, to_timestamp(im.created_timestamp)
        FROM {raw.table(images)} im
        JOIN changed c ON im._dlt_root_id = c._dlt_id
        JOIN core.listings cl ON cl.etsy_listing_id = c.listing_id"""
    upsert = upsert_sql(
        "core.listing_images",
        IMAGE_COLUMNS,
        source,
        key=["etsy_image_id"],
        update=["listing_id", "rank", "url_570xn", "url_fullxfull", "alt_text"],
        compare=["listing_id", "rank", "alt_text"],
    )
    written = run(conn, f"WITH {parents} {upsert}", p)
    written += remove_missing(conn, raw, p, parents, IMAGE_ROWS, images)
    return written


def snapshot_listings(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    """Today's counters of every listing the pull read, loaded or unchanged (`seen`); the last pull of the day
    wins."""
    if not raw.has("listings"):
        return 0
    source = f"""
        SELECT cl.id, (now() AT TIME ZONE 'UTC')::date, cl.views, cl.num_favorers, cl.quantity, cl.state
        FROM core.listings cl
        WHERE cl.shop_id = :shop_id AND (
            cl.etsy_listing_id IN (SELECT unnest(CAST(:seen AS bigint[])))
            OR cl.etsy_listing_id IN (SELECT l.listing_id FROM {raw.table("listings")} l WHERE {IN_LOADS.format(a="l")})
        )"""
    sql = upsert_sql(
        "core.listing_snapshots",
        ("listing_id", "snapshot_date", "views", "num_favorers", "quantity", "state"),
        source,
        key=["listing_id", "snapshot_date"],
        touch=False,  # rewritten only when a counter moved: a later pull of the day with nothing new writes nothing
    )
    return run(conn, sql, p)
