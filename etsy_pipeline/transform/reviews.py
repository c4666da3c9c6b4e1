"""Raw → core for reviews: one per reviewed transaction, linked to its listing when the listing is synced.

Analytics counts reviews from `core.reviews`, so it reads only what the application owns and types.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.statements import IN_LOADS, run


def shape_reviews(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("reviews", "rating"):
        return 0
    c = raw.col
    return run(
        conn,
        f"""
        WITH changed AS (
            SELECT DISTINCT ON (r.transaction_id) r.* FROM {raw.table("reviews")} r WHERE {IN_LOADS.format(a="r")}
            ORDER BY r.transaction_id, r._dlt_load_id DESC
        )
        INSERT INTO core.reviews (etsy_transaction_id, shop_id, listing_id, etsy_listing_id, etsy_buyer_user_id,
            rating, review, language, etsy_created_at, etsy_updated_at)
        SELECT r.transaction_id, :shop_id, cl.id, {c("reviews", "listing_id", "r", "bigint")},
            {c("reviews", "buyer_user_id", "r", "bigint")}, r.rating, {c("reviews", "review", "r", "text")},
            {c("reviews", "language", "r", "text")}, to_timestamp(r.created_timestamp),
            to_timestamp({c("reviews", "updated_timestamp", "r", "bigint")})
        FROM changed r
        LEFT JOIN core.listings cl ON cl.etsy_listing_id = {c("reviews", "listing_id", "r", "bigint")}
        ON CONFLICT (etsy_transaction_id) DO UPDATE SET listing_id = EXCLUDED.listing_id,
            etsy_listing_id = EXCLUDED.etsy_listing_id, etsy_buyer_user_id = EXCLUDED.etsy_buyer_user_id,
            rating = EXCLUDED.rating, review = EXCLUDED.review, language = EXCLUDED.language,
            etsy_created_at = EXCLUDED.etsy_created_at, etsy_updated_at = EXCLUDED.etsy_updated_at, updated_at = now()
        WHERE (core.reviews.listing_id, core.reviews.rating, core.reviews.review, core.reviews.etsy_created_at,
               core.reviews.etsy_updated_at)
          IS DISTINCT FROM (EXCLUDED.listing_id, EXCLUDED.rating, EXCLUDED.review, EXCLUDED.etsy_created_at,
               EXCLUDED.etsy_updated_at)
        """,
        p,
    )
