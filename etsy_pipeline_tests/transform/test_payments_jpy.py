"""A yen shop (divisor 1) shaped from raw rows written by hand: payments, their adjustment and the ledger keep
whole yen exactly, and the day's fees follow. The `tiny` emulator scale has only USD and EUR shops.

Worked by hand: an order of 4,500 yen; Etsy's fees 429 (6.5 % + 3 % of 4,500 rounded up, plus 1 yen); a refund
of 1,500 yen. So net 4,071; after the refund gross 3,000, fees 429, net 2,571. The ledger: +4,500, -429, -1,500.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Connection, text

from etsy_pipeline.storage.database import Database
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline.transform.analytics import rebuild_shop_day
from etsy_pipeline.transform.core import shape_shop
from etsy_pipeline.transform.payments import shape_ledger_entries
from etsy_pipeline.transform.raw import RawSchema
from etsy_pipeline_tests.factories import next_id, user_with_shop
from etsy_pipeline_tests.transform.by_hand import HandOrder, add_hand_orders

PLACED = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
LOAD = "1773480000.5"

SCHEMA = "CREATE SCHEMA IF NOT EXISTS etsy_raw"
LEDGER = """CREATE TABLE etsy_raw.ledger_entries (entry_id bigint, ledger_id bigint, sequence_number bigint,
    amount bigint, currency text, description text, balance bigint, created_timestamp bigint, ledger_type text,
    reference_type text, reference_id text, shop_id bigint, _dlt_load_id text, _dlt_id text)"""
RAW = [
    SCHEMA,
    LEDGER,
    "CREATE TABLE etsy_raw._dlt_loads (load_id text, schema_name text, status bigint)",
    """CREATE TABLE etsy_raw.payments (payment_id bigint, shop_id bigint, receipt_id bigint, buyer_user_id bigint,
    currency text, buyer_currency text, status text, created_timestamp bigint, updated_timestamp bigint,
    amount_gross__amount bigint, amount_gross__divisor bigint, amount_gross__currency_code text,
    amount_fees__amount bigint, amount_fees__divisor bigint, amount_fees__currency_code text,
    amount_net__amount bigint, amount_net__divisor bigint, amount_net__currency_code text,
    adjusted_gross__amount bigint, adjusted_gross__divisor bigint, adjusted_gross__currency_code text,
    adjusted_fees__amount bigint, adjusted_fees__divisor bigint, adjusted_fees__currency_code text,
    adjusted_net__amount bigint, adjusted_net__divisor bigint, adjusted_net__currency_code text,
    _dlt_load_id text, _dlt_id text)""",
    """CREATE TABLE etsy_raw.payments__payment_adjustments (payment_adjustment_id bigint, payment_id bigint,
    reason_code text, total_adjustment_amount bigint, total_fee_adjustment_amount bigint, created_timestamp bigint,
    _dlt_root_id text, _dlt_parent_id text, _dlt_list_idx bigint, _dlt_id text)""",
    """CREATE TABLE etsy_raw.ledger_entries__payment_adjustments (payment_adjustment_id bigint, payment_id bigint,
    _dlt_root_id text, _dlt_parent_id text, _dlt_list_idx bigint, _dlt_id text)""",
]


def _load_raw(conn: Connection, etsy_shop_id: int, receipt_id: int) -> int:
    for statement in RAW:
        conn.execute(text(statement))
    payment_id, placed, refunded = receipt_id + 5_000, int(PLACED.timestamp()), int(PLACED.timestamp()) + 86_400
    money = {f"{m}__{p}": v for m, a in (("amount_gross", 4500), ("amount_fees", 429), ("amount_net", 4071),
             ("adjusted_gross", 3000), ("adjusted_fees", 429), ("adjusted_net", 2571))
             for p, v in (("amount", a), ("divisor", 1), ("currency_code", "JPY"))}  # fmt: skip
    conn.execute(text("INSERT INTO etsy_raw._dlt_loads VALUES (:l, 'etsy', 0)"), {"l": LOAD})
    conn.execute(
        text(
            f"""INSERT INTO etsy_raw.payments (payment_id, shop_id, receipt_id, buyer_user_id, currency,
                buyer_currency, status, created_timestamp, updated_timestamp, {", ".join(money)}, _dlt_load_id,
                _dlt_id) VALUES (:pid, :shop, :rid, 77, 'JPY', 'JPY', 'settled', :placed, :refunded,
                {", ".join(":" + k for k in money)}, :load, 'p1')"""
        ),
        {"pid": payment_id, "shop": etsy_shop_id, "rid": receipt_id, "placed": placed, "refunded": refunded,
         "load": LOAD} | money,
    )  # fmt: skip
    conn.execute(
        text(
            """INSERT INTO etsy_raw.payments__payment_adjustments VALUES
               (900, :pid, 'other', 1500, 0, :refunded, 'p1', 'p1', 0, 'a1')"""
        ),
        {"pid": payment_id, "refunded": refunded},
    )
    lines = [
        (1, 4500, 4500, placed, "PAYMENT_GROSS", "shop_payment", str(payment_id)),
        (2, -429, 4071, placed, "PAYMENT_PROCESSING_FEE", "shop_payment", str(payment_id)),
        (3, -1500, 2571, refunded, "REFUND_GROSS", "payment_adjustment", "900"),
    ]
    for seq, amount, balance, when, kind, ref_type, ref in lines:
        conn.execute(
            text(
                """INSERT INTO etsy_raw.ledger_entries VALUES (:id, 1, :seq, :amount, 'JPY', :kind, :balance, :when,
                   :kind, :ref_type, :ref, :shop, :load, :dlt)"""
            ),
            {"id": 100 + seq, "seq": seq, "amount": amount, "balance": balance, "when": when, "kind": kind,
             "ref_type": ref_type, "ref": ref, "shop": etsy_shop_id, "load": LOAD, "dlt": f"e{seq}"},
        )  # fmt: skip
    conn.execute(
        text("INSERT INTO etsy_raw.ledger_entries__payment_adjustments VALUES (900, :pid, 'e3', 'e3', 0, 'ea')"),
        {"pid": payment_id},
    )
    return payment_id


def test_a_yen_shop_keeps_whole_yen_in_payments_ledger_and_daily_fees(db: Database, repos: Repositories) -> None:
    _, shop = user_with_shop(repos, "yen@example.com", "Yen")
    receipt_id = next_id()
    add_hand_orders(db, shop.id, [HandOrder(buyer=77, created=PLACED, items=[(1, "4500")], receipt_id=receipt_id,
                                            refunded="1500")], currency="JPY")  # fmt: skip
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE core.shops SET currency_code = 'JPY' WHERE id = :s"), {"s": shop.id})
        payment_id = _load_raw(conn, shop.etsy_shop_id, receipt_id)
        rows = shape_shop(conn, shop_id=shop.id, etsy_shop_id=shop.etsy_shop_id).rows
        assert rows["payments"] == 1 and rows["ledger_entries"] == 3
        rebuild_shop_day(conn, PLACED.date())
    with db.engine.connect() as conn:
        payment = conn.execute(
            text(
                """SELECT p.etsy_payment_id, o.etsy_receipt_id, p.currency_code, p.gross, p.fees, p.net,
                          p.adjusted_gross, p.adjusted_fees, p.adjusted_net, p.adjustments, p.adjusted_amount
                   FROM core.payments p JOIN core.orders o ON o.id = p.order_id"""
            )
        ).all()
        ledger = conn.execute(
            text(
                """SELECT sequence_number, currency_code, amount, balance, etsy_payment_id FROM core.ledger_entries
                   ORDER BY sequence_number"""
            )
        ).all()
        daily = conn.execute(
            text("SELECT currency_code, etsy_fees, net_revenue_after_fees FROM analytics.shop_daily_metrics")
        ).all()
    assert [tuple(p) for p in payment] == [
        (payment_id, receipt_id, "JPY", Decimal(4500), Decimal(429), Decimal(4071), Decimal(3000), Decimal(429),
         Decimal(2571), 1, Decimal(1500)),
    ]  # fmt: skip
    assert [tuple(e) for e in ledger] == [
        (1, "JPY", Decimal(4500), Decimal(4500), payment_id),
        (2, "JPY", Decimal(-429), Decimal(4071), payment_id),
        (3, "JPY", Decimal(-1500), Decimal(2571), payment_id),
    ]
    assert [tuple(d) for d in daily] == [("JPY", Decimal(429), Decimal(2571))]


def test_a_new_shops_listing_fee_takes_the_divisor_of_its_listings(db: Database, repos: Repositories) -> None:
    """Before its first sale a shop pays listing fees: no payment or receipt tells the divisor, a listing does."""
    _, shop = user_with_shop(repos, "new@example.com", "New")
    with db.engine.begin() as conn:
        conn.execute(text(SCHEMA))
        conn.execute(text(LEDGER))
        conn.execute(
            text(
                "CREATE TABLE etsy_raw.listings (listing_id bigint, shop_id bigint, price__amount bigint, "
                "price__divisor bigint, price__currency_code text, _dlt_load_id text, _dlt_id text)"
            )
        )
        conn.execute(
            text("INSERT INTO etsy_raw.listings VALUES (1, :shop, 1200, 1, 'JPY', :load, 'l1')"),
            {"shop": shop.etsy_shop_id, "load": LOAD},
        )
        conn.execute(
            text(
                """INSERT INTO etsy_raw.ledger_entries VALUES (500, 1, 1, -30, 'JPY', 'listing', -30, :when, 'listing',
                   'listing', '1', :shop, :load, 'e1')"""
            ),
            {"when": int(PLACED.timestamp()), "shop": shop.etsy_shop_id, "load": LOAD},
        )
        params = {"shop_id": shop.id, "etsy_shop_id": shop.etsy_shop_id, "since": "", "upto": LOAD}
        assert shape_ledger_entries(conn, RawSchema(conn), params) == 1
        line = conn.execute(text("SELECT amount, balance, etsy_payment_id FROM core.ledger_entries")).all()
    assert [tuple(x) for x in line] == [(Decimal(-30), Decimal(-30), None)]
