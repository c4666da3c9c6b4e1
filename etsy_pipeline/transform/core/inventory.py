"""Raw → core for inventory: one row per listing and variation (Etsy changes product and offering ids on every
inventory update, so the stable key is the listing plus its property values). Offerings a re-read listing no
longer has are removed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from etsy_pipeline.storage.upsert import upsert_sql
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.statements import Children, changed, money_json, remove_missing, run

PRODUCTS, OFFERINGS = "listings__inventory__products", "listings__inventory__products__offerings"
VALUES = "listings__inventory__products__property_values"
COLUMNS = (
    "listing_id", "shop_id", "variation_key", "etsy_product_id", "etsy_offering_id", "sku", "property_values",
    "price", "currency_code", "quantity", "is_enabled", "is_deleted",
)  # fmt: skip


OFFERING_ROWS = Children("core.inventory", "listing_id", "core.listings", "listing_id", "etsy_product_id", "product_id")


def _variation(raw: RawSchema) -> tuple[str, str]:
    """The variation key (`property:value|…`, sorted) and the property values as JSON, per product row `pr`."""
    if not raw.has(VALUES):
        return "''", "'[]'::jsonb"
    values = raw.table(VALUES)
    key = f"""coalesce((SELECT string_agg(pv.property_id || ':' || (pv.value_ids->>0), '|'
                ORDER BY pv.property_id) FROM {values} pv WHERE pv._dlt_parent_id = pr._dlt_id), '')"""
    described = f"""coalesce((SELECT jsonb_agg(jsonb_build_object('property_id', pv.property_id,
                'property_name', pv.property_name, 'value_ids', pv.value_ids, 'values', pv."values")
                ORDER BY pv._dlt_list_idx) FROM {values} pv WHERE pv._dlt_parent_id = pr._dlt_id), '[]'::jsonb)"""
    return key, described


def shape_inventory(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("listings"):
        return 0
    parents = changed(raw.table("listings"), "l", "listing_id")
    written = 0
    if raw.has(PRODUCTS) and raw.has(OFFERINGS):
        key, described = _variation(raw)
        source = f"""
            SELECT cl.id, :shop_id, {key}, pr.product_id, o.offering_id, nullif(pr.sku, ''), {described},
                {money_json("o.price")}, o.price->>'currency_code', o.quantity, o.is_enabled,
                coalesce(o.is_deleted, false)
            FROM {raw.table(PRODUCTS)} pr
            JOIN changed c ON pr._dlt_root_id = c._dlt_id
            JOIN core.listings cl ON cl.etsy_listing_id = c.listing_id
            JOIN {raw.table(OFFERINGS)} o ON o._dlt_parent_id = pr._dlt_id"""
        upsert = upsert_sql(
            "core.inventory",
            COLUMNS,
            source,
            key=["listing_id", "variation_key"],
            update=[col for col in COLUMNS if col not in ("listing_id", "shop_id", "variation_key")],
            compare=["etsy_product_id", "etsy_offering_id", "sku", "price", "quantity", "is_enabled"],
        )
        written += run(conn, f"WITH {parents} {upsert}", p)
    written += remove_missing(conn, raw, p, parents, OFFERING_ROWS, PRODUCTS)
    return written
