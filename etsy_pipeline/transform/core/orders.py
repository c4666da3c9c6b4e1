"""Raw → core for orders (Etsy's receipts) and their line items (transactions).

Refunds are summed into `refunded_amount`; the first shipment notification gives `shipped_at`. Buyer personal
data arrives already encrypted (the source encrypts before anything is stored) and is kept as ciphertext.
Line items a re-read receipt no longer has are removed.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from etsy_pipeline.storage.upsert import upsert_sql
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.statements import IN_LOADS, Children, changed, money, money_json, remove_missing, run

ORDER_MONEY = (
    "grandtotal", "subtotal", "total_price", "total_shipping_cost", "total_tax_cost", "total_vat_cost",
    "discount_amt", "gift_wrap_price",
)  # fmt: skip
ORDER_COLUMNS = (
    "etsy_receipt_id", "shop_id", "etsy_buyer_user_id", "status", "is_paid", "is_shipped", "is_gift",
    "payment_method", "country_iso", "currency_code", *ORDER_MONEY, "refunded_amount", "buyer_name_encrypted",
    "buyer_email_encrypted", "shipping_address_encrypted", "etsy_created_at", "etsy_updated_at",
    "etsy_updated_timestamp", "shipped_at",
)  # fmt: skip
ORDER_UPDATED = (
    "status", "is_paid", "is_shipped", "is_gift", "country_iso", *ORDER_MONEY, "refunded_amount",
    "buyer_name_encrypted", "buyer_email_encrypted", "shipping_address_encrypted", "etsy_updated_at",
    "etsy_updated_timestamp", "shipped_at",
)  # fmt: skip
ORDER_COMPARED = (
    "status", "is_paid", "is_shipped", "grandtotal", "refunded_amount", "etsy_updated_timestamp", "shipped_at",
)  # fmt: skip


def _refunds(raw: RawSchema) -> str:
    if not raw.has("receipts__refunds"):
        return "0"
    return f"""coalesce((SELECT sum({money_json("f.amount")}) FROM {raw.table("receipts__refunds")} f
                 WHERE f._dlt_root_id = r._dlt_id), 0)"""


def _shipped(raw: RawSchema) -> str:
    if not raw.has("receipts__shipments"):
        return "NULL::timestamptz"
    return f"""(SELECT to_timestamp(min(s.shipment_notification_timestamp)) FROM {raw.table("receipts__shipments")} s
             WHERE s._dlt_root_id = r._dlt_id)"""


def shape_orders(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("receipts"):
        return 0

    def secret(column: str) -> str:
        return f"convert_to({raw.col('receipts', column, 'r', 'text')}, 'UTF8')"

    amounts = ", ".join(money(raw, "receipts", m, "r") for m in ORDER_MONEY)
    source = f"""
        SELECT r.receipt_id, :shop_id, r.buyer_user_id, r.status, r.is_paid, r.is_shipped, r.is_gift,
            r.payment_method, {raw.col("receipts", "country_iso", "r", "text")}, r.grandtotal__currency_code,
            {amounts}, {_refunds(raw)}, {secret("buyer_name_encrypted")}, {secret("buyer_email_encrypted")},
            {secret("shipping_address_encrypted")}, to_timestamp(r.created_timestamp),
            to_timestamp(r.updated_timestamp), r.updated_timestamp, {_shipped(raw)}
        FROM {raw.table("receipts")} r
        WHERE {IN_LOADS.format(a="r")}"""
    sql = upsert_sql(
        "core.orders", ORDER_COLUMNS, source, key=["etsy_receipt_id"], update=ORDER_UPDATED, compare=ORDER_COMPARED
    )
    return run(conn, sql, p)


ITEM_COLUMNS = (
    "etsy_transaction_id", "order_id", "listing_id", "etsy_listing_id", "etsy_product_id", "title", "sku",
    "quantity", "price", "shipping_cost", "currency_code", "variations", "etsy_created_at", "paid_at", "shipped_at",
)  # fmt: skip
ITEM_UPDATED = ("order_id", "listing_id", "quantity", "price", "shipping_cost", "paid_at", "shipped_at")

ITEM_ROWS = Children(
    "core.order_items", "order_id", "core.orders", "receipt_id", "etsy_transaction_id", "transaction_id"
)


def shape_order_items(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    if not raw.has("receipts"):
        return 0
    parents = changed(raw.table("receipts"), "r", "receipt_id")
    t, c = "receipts__transactions", raw.col
    written = 0
    if raw.has(t):
        source = f"""
            SELECT tx.transaction_id, o.id, cl.id, {c(t, "listing_id", "tx", "bigint")},
                {c(t, "product_id", "tx", "bigint")}, {c(t, "title", "tx", "text")},
                nullif({c(t, "sku", "tx", "text")}, ''), tx.quantity, {money_json("tx.price")},
                {money_json("tx.shipping_cost")}, tx.price->>'currency_code',
                coalesce({c(t, "variations", "tx", "jsonb")}::jsonb, '[]'::jsonb),
                to_timestamp(tx.created_timestamp), to_timestamp({c(t, "paid_timestamp", "tx", "bigint")}),
                to_timestamp({c(t, "shipped_timestamp", "tx", "bigint")})
            FROM {raw.table(t)} tx
            JOIN changed c ON tx._dlt_root_id = c._dlt_id
            JOIN core.orders o ON o.etsy_receipt_id = c.receipt_id
            LEFT JOIN core.listings cl ON cl.etsy_listing_id = {c(t, "listing_id", "tx", "bigint")}"""
        upsert = upsert_sql(
            "core.order_items",
            ITEM_COLUMNS,
            source,
            key=["etsy_transaction_id"],
            update=ITEM_UPDATED,
            compare=["listing_id", "quantity", "price", "paid_at", "shipped_at"],
        )
        written += run(conn, f"WITH {parents} {upsert}", p)
    written += remove_missing(conn, raw, p, parents, ITEM_ROWS, t)
    return written
