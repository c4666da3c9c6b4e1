"""Raw → core for shop sections. Etsy lists a shop's sections in one call per sync, so the newest load that
holds any of the shop's sections is the whole list: sections missing from it were deleted on Etsy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from etsy_pipeline.storage.upsert import upsert_sql
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.statements import IN_LOADS, run


def shape_sections(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("shop_sections"):
        return 0
    table, c = raw.table("shop_sections"), raw.col
    newest = f"(SELECT max(s._dlt_load_id) FROM {table} s WHERE {IN_LOADS.format(a='s')})"
    source = f"""
        SELECT s.shop_section_id, :shop_id, s.title, {c("shop_sections", "rank", "s", "bigint")},
            {c("shop_sections", "active_listing_count", "s", "bigint")}
        FROM {table} s WHERE s.shop_id = :etsy_shop_id AND s._dlt_load_id = {newest}"""
    columns = ("etsy_shop_section_id", "shop_id", "title", "rank", "active_listing_count")
    written = run(conn, upsert_sql("core.shop_sections", columns, source, key=["etsy_shop_section_id"]), p)
    written += run(
        conn,
        f"""
        DELETE FROM core.shop_sections cs
        WHERE cs.shop_id = :shop_id AND {newest} IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM {table} s WHERE s.shop_section_id = cs.etsy_shop_section_id AND s._dlt_load_id = {newest})
        """,
        p,
    )
    return written
