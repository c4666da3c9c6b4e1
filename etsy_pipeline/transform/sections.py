"""Raw → core for shop sections. Etsy lists a shop's sections in one call per sync, so the newest load that
holds any of the shop's sections is the whole list: sections missing from it were deleted on Etsy."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.statements import IN_LOADS, run


def shape_sections(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("shop_sections"):
        return 0
    table, c = raw.table("shop_sections"), raw.col
    newest = f"(SELECT max(s._dlt_load_id) FROM {table} s WHERE {IN_LOADS.format(a='s')})"
    written = run(
        conn,
        f"""
        INSERT INTO core.shop_sections (etsy_shop_section_id, shop_id, title, rank, active_listing_count)
        SELECT s.shop_section_id, :shop_id, s.title, {c("shop_sections", "rank", "s", "bigint")},
            {c("shop_sections", "active_listing_count", "s", "bigint")}
        FROM {table} s WHERE s.shop_id = :etsy_shop_id AND s._dlt_load_id = {newest}
        ON CONFLICT (etsy_shop_section_id) DO UPDATE SET shop_id = EXCLUDED.shop_id, title = EXCLUDED.title,
            rank = EXCLUDED.rank, active_listing_count = EXCLUDED.active_listing_count, updated_at = now()
        WHERE (core.shop_sections.shop_id, core.shop_sections.title, core.shop_sections.rank,
               core.shop_sections.active_listing_count)
          IS DISTINCT FROM (EXCLUDED.shop_id, EXCLUDED.title, EXCLUDED.rank, EXCLUDED.active_listing_count)
        """,
        p,
    )
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
