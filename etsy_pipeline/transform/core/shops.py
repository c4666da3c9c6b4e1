"""Raw → core for the shop itself: the row `connect` created is kept up to date from Etsy's getShop."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.statements import IN_LOADS, run


def shape_shop_row(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("shops"):
        return 0
    c = raw.col
    return run(
        conn,
        f"""
        UPDATE core.shops s SET shop_name = r.shop_name, title = r.title, currency_code = r.currency_code,
            url = r.url, is_vacation = r.is_vacation, listing_active_count = r.listing_active_count,
            transaction_sold_count = r.transaction_sold_count, num_favorers = r.num_favorers,
            review_count = coalesce({c("shops", "review_count", "r", "bigint")}, 0),
            review_average = {c("shops", "review_average", "r", "numeric")}, etsy_user_id = r.user_id,
            etsy_created_at = to_timestamp(r.created_timestamp), etsy_updated_at = to_timestamp(r.updated_timestamp),
            updated_at = now()
        FROM {raw.table("shops")} r
        WHERE s.id = :shop_id AND {IN_LOADS.format(a="r")}
        """,
        p,
    )
