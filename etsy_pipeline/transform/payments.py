"""Raw → core for Etsy's payments and the payment ledger: what each order paid, Etsy's fees, and refunds.

A payment arrives again whenever the ledger shows it adjusted (a refund, a cancellation), with its whole
`payment_adjustments[]`, so each changed payment is rewritten from its newest load. Adjustment and ledger amounts
are plain ints in minor units: adjustments use their payment's divisor; a ledger line uses the divisor Etsy sends
with the shop's Money in that currency (a payment's, a receipt's or a listing's), so JPY (divisor 1) stays exact.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from etsy_pipeline.storage.upsert import upsert_sql
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline.transform.statements import IN_LOADS, money, run

CHANGED_PAYMENTS = f"""
    changed AS (  -- one row per payment in the new loads: merged, or deduplicated (`transform/dedupe.py`)
        SELECT p.* FROM {{payments}} p WHERE {IN_LOADS.format(a="p")}
    )"""


def _adjustments(raw: RawSchema) -> str:
    child = "payments__payment_adjustments"
    if not raw.has(child):
        return "SELECT NULL::text AS root, 0 AS n, 0 AS amount, 0 AS fee_amount, NULL::bigint AS last WHERE false"
    fee = raw.col(child, "total_fee_adjustment_amount", "a", "bigint")
    return f"""
        SELECT a._dlt_root_id AS root, count(*) AS n,
            sum(core.money(a.total_adjustment_amount, c.amount_gross__divisor)) AS amount,
            sum(core.money(coalesce({fee}, 0), c.amount_gross__divisor)) AS fee_amount,
            max(a.created_timestamp) AS last
        FROM {raw.table(child)} a JOIN changed c ON a._dlt_root_id = c._dlt_id
        GROUP BY a._dlt_root_id"""


def shape_payments(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    """Upsert the changed payments, linked to their orders (shaped just before)."""
    if not raw.has("payments"):
        return 0

    def m(prefix: str) -> str:
        return money(raw, "payments", prefix, "c")

    written = run(
        conn,
        f"""
        WITH {CHANGED_PAYMENTS.format(payments=raw.table("payments"))},
        adj AS ({_adjustments(raw)})
        INSERT INTO core.payments (etsy_payment_id, shop_id, order_id, etsy_receipt_id, etsy_buyer_user_id,
            currency_code, buyer_currency_code, status, gross, fees, net, posted_gross, posted_fees, posted_net,
            adjusted_gross, adjusted_fees, adjusted_net, adjustments, adjusted_amount, adjusted_fee_amount,
            last_adjusted_at, etsy_created_at, etsy_updated_at, etsy_updated_timestamp, shipped_at)
        SELECT c.payment_id, :shop_id, o.id, c.receipt_id, {raw.col("payments", "buyer_user_id", "c", "bigint")},
            c.amount_gross__currency_code, {raw.col("payments", "buyer_currency", "c", "text")},
            {raw.col("payments", "status", "c", "text")}, {m("amount_gross")}, {m("amount_fees")}, {m("amount_net")},
            {m("posted_gross")}, {m("posted_fees")}, {m("posted_net")}, {m("adjusted_gross")}, {m("adjusted_fees")},
            {m("adjusted_net")}, coalesce(adj.n, 0), coalesce(adj.amount, 0), coalesce(adj.fee_amount, 0),
            to_timestamp(adj.last), to_timestamp(c.created_timestamp),
            to_timestamp({raw.col("payments", "updated_timestamp", "c", "bigint")}),
            {raw.col("payments", "updated_timestamp", "c", "bigint")},
            to_timestamp({raw.col("payments", "shipped_timestamp", "c", "bigint")})
        FROM changed c
        LEFT JOIN adj ON adj.root = c._dlt_id
        LEFT JOIN core.orders o ON o.etsy_receipt_id = c.receipt_id
        ON CONFLICT (etsy_payment_id) DO UPDATE SET order_id = coalesce(EXCLUDED.order_id, core.payments.order_id),
            etsy_buyer_user_id = EXCLUDED.etsy_buyer_user_id, currency_code = EXCLUDED.currency_code,
            buyer_currency_code = EXCLUDED.buyer_currency_code, status = EXCLUDED.status, gross = EXCLUDED.gross,
            fees = EXCLUDED.fees, net = EXCLUDED.net, posted_gross = EXCLUDED.posted_gross,
            posted_fees = EXCLUDED.posted_fees, posted_net = EXCLUDED.posted_net,
            adjusted_gross = EXCLUDED.adjusted_gross, adjusted_fees = EXCLUDED.adjusted_fees,
            adjusted_net = EXCLUDED.adjusted_net, adjustments = EXCLUDED.adjustments,
            adjusted_amount = EXCLUDED.adjusted_amount, adjusted_fee_amount = EXCLUDED.adjusted_fee_amount,
            last_adjusted_at = EXCLUDED.last_adjusted_at, etsy_updated_at = EXCLUDED.etsy_updated_at,
            etsy_updated_timestamp = EXCLUDED.etsy_updated_timestamp, shipped_at = EXCLUDED.shipped_at,
            updated_at = now()
        WHERE (core.payments.order_id, core.payments.status, core.payments.gross, core.payments.fees,
               core.payments.posted_net, core.payments.adjusted_net, core.payments.adjustments,
               core.payments.adjusted_amount, core.payments.etsy_updated_timestamp, core.payments.shipped_at)
          IS DISTINCT FROM (coalesce(EXCLUDED.order_id, core.payments.order_id), EXCLUDED.status, EXCLUDED.gross,
               EXCLUDED.fees, EXCLUDED.posted_net, EXCLUDED.adjusted_net, EXCLUDED.adjustments,
               EXCLUDED.adjusted_amount, EXCLUDED.etsy_updated_timestamp, EXCLUDED.shipped_at)
        """,
        p,
    )
    _link_orders(conn, p)
    return written


def _link_orders(conn: Connection, p: dict[str, Any]) -> None:
    """Link the payments read before their receipt, now that the receipt is shaped.

    The shop's unlinked payments are the few whose order was missing (`ix_payments_order_id` finds them), so they
    are the ones looked at, not every receipt of the load: walking the 17,000 receipts of a first sync to find
    none took 0.2 s. It links the same payments: an order shaped before a payment is linked by the upsert above,
    so a payment still unlinked has an order only if that order arrived in this load."""
    run(
        conn,
        """
        UPDATE core.payments cp SET order_id = o.id, updated_at = now()
        FROM core.orders o
        WHERE cp.order_id IS NULL AND cp.shop_id = :shop_id AND o.etsy_receipt_id = cp.etsy_receipt_id
        """,
        p,
    )


def _divisors(raw: RawSchema) -> str:
    """The divisor of the shop's Money in a currency, from the first payment, receipt or listing that has one (a
    new shop pays listing fees before it sells anything)."""
    sources = [
        f"(SELECT x.{prefix}__divisor FROM {raw.table(table)} x WHERE x.shop_id = :etsy_shop_id "
        f"AND x.{prefix}__currency_code = cu.currency LIMIT 1)"
        for table, prefix in (("payments", "amount_gross"), ("receipts", "grandtotal"), ("listings", "price"))
        if raw.has(table, f"{prefix}__divisor")
    ]
    return f"coalesce({', '.join([*sources, 'NULL::bigint'])})"


LEDGER_COLUMNS = (
    "etsy_entry_id", "shop_id", "etsy_ledger_id", "sequence_number", "currency_code", "amount", "balance",
    "ledger_type", "description", "reference_type", "reference_id", "etsy_payment_id", "etsy_created_at",
)  # fmt: skip


def shape_ledger_entries(conn: Connection, raw: RawSchema, p: dict[str, Any]) -> int:
    """Insert the new ledger lines (Etsy never changes one), each with the payment it is about."""
    if not raw.has("ledger_entries"):
        return 0
    child = "ledger_entries__payment_adjustments"
    adjusted_payment = (
        f"""(SELECT a.payment_id FROM {raw.table(child)} a WHERE a._dlt_root_id = e._dlt_id
             ORDER BY a._dlt_list_idx LIMIT 1)"""
        if raw.has(child)
        else "NULL::bigint"
    )
    reference = raw.col("ledger_entries", "reference_id", "e", "text")
    reference_type = raw.col("ledger_entries", "reference_type", "e", "text")
    latest = f"""
        WITH changed AS (  -- one row per entry in the new loads: merged, or deduplicated (`transform/dedupe.py`)
            SELECT e.* FROM {raw.table("ledger_entries")} e WHERE {IN_LOADS.format(a="e")}
        ),
        divisors AS MATERIALIZED (  -- once per currency: inlined, PostgreSQL looked it up for every line
            SELECT cu.currency, {_divisors(raw)} AS divisor FROM (SELECT DISTINCT currency FROM changed) cu
        )"""
    source = f"""
        SELECT e.entry_id, :shop_id, e.ledger_id, e.sequence_number, e.currency, core.money(e.amount, d.divisor),
            core.money(e.balance, d.divisor), {raw.col("ledger_entries", "ledger_type", "e", "text")},
            {raw.col("ledger_entries", "description", "e", "text")}, {reference_type}, {reference},
            CASE WHEN {reference_type} = 'shop_payment' AND {reference} ~ '^[0-9]{{1,18}}$' THEN {reference}::bigint
                 ELSE {adjusted_payment} END,
            to_timestamp(e.created_timestamp)
        FROM changed e JOIN divisors d ON d.currency = e.currency"""
    upsert = upsert_sql(
        "core.ledger_entries",
        LEDGER_COLUMNS,
        source,
        key=["etsy_entry_id"],
        update=["amount", "balance", "etsy_payment_id"],
    )
    return run(conn, f"{latest} {upsert}", p)
