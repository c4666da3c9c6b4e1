"""Raw → core for reviews: one per reviewed transaction, linked to its listing when the listing is synced.

Analytics counts reviews from `core.reviews`, so it reads only what the application owns and types.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from etsy_pipeline.storage.upsert import upsert_sql
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.statements import IN_LOADS, run

COLUMNS = (
    "etsy_transaction_id", "shop_id", "listing_id", "etsy_listing_id", "etsy_buyer_user_id", "rating", "review",
    "language", "etsy_created_at", "etsy_updated_at",
)  # fmt: skip


def shape_reviews(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("reviews", "rating"):
        return 0
    c = raw.col
    source = f"""
        SELECT r.transaction_id, :shop_id, cl.id, {c("reviews", "listing_id", "r", "bigint")},
            {c("reviews", "buyer_user_id", "r", "bigint")}, r.rating, {c("reviews", "review", "r", "text")},
            {c("reviews", "language", "r", "text")}, to_timestamp(r.created_timestamp),
            to_timestamp({c("reviews", "updated_timestamp", "r", "bigint")})
        FROM changed r
        LEFT JOIN core.listings cl ON cl.etsy_listing_id = {c("reviews", "listing_id", "r", "bigint")}"""
    upsert = upsert_sql(
        "core.reviews",
        COLUMNS,
        source,
        key=["etsy_transaction_id"],
        update=[col for col in COLUMNS if col not in ("etsy_transaction_id", "shop_id")],
        compare=["listing_id", "rating", "review", "etsy_created_at", "etsy_updated_at"],
    )
    latest = f"""
        WITH changed AS (  -- one row per review in the new loads: merged, or deduplicated (`transform/dedupe.py`)
            SELECT r.* FROM {raw.table("reviews")} r WHERE {IN_LOADS.format(a="r")}
        )"""
    return run(conn, f"{latest} {upsert}", p)
