"""Payments, the ledger, sections and reviews in core equal the emulator's own objects, after a full sync and after
an incremental one that follows a refund and a cancellation (neither stamps the receipt, as on Etsy).

Expected values come from the emulator's receipts, adjustments and ledger, with its fee rule (`payments.fee`);
money is divided by the shop currency's divisor by hand here, never by the production SQL.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from etsy_pipeline.emulator.activity import cancel
from etsy_pipeline.emulator.models import Receipt
from etsy_pipeline.emulator.payments import fee
from etsy_pipeline.emulator.state import EmulatorState
from etsy_pipeline.transform.analytics import rebuild_shop_day
from etsy_pipeline_tests.sync.conftest import Installation
from etsy_pipeline_tests.transform.expected import day_of

Row = tuple[Any, ...]


def _divisor(state: EmulatorState, etsy_shop_id: int) -> int:
    return state.world.shops[etsy_shop_id].currency.divisor


def expected_payments(state: EmulatorState) -> dict[int, Row]:
    """Per receipt: currency, gross, fees, net, adjustments, adjusted amount, adjusted gross / fees / net."""
    rows: dict[int, Row] = {}
    for r in state.world.receipts.values():
        currency = state.world.shops[r.shop_id].currency
        d = Decimal(currency.divisor)
        gross, fees, adjusted = r.grandtotal, fee(r.grandtotal, currency.divisor), r.adjusted
        rows[r.receipt_id] = (
            currency.code, gross / d, fees / d, (gross - fees) / d, len(r.adjustments), adjusted / d,
            (gross - adjusted) / d if adjusted else None, fees / d if adjusted else None,
            (gross - fees - adjusted) / d if adjusted else None,
        )  # fmt: skip
    return rows


def actual_payments(inst: Installation) -> dict[int, Row]:
    rows = inst.core(
        """
        SELECT p.etsy_receipt_id, p.currency_code, p.gross, p.fees, p.net, p.adjustments, p.adjusted_amount,
            p.adjusted_gross, p.adjusted_fees, p.adjusted_net
        FROM core.payments p
        """
    )
    return {r[0]: tuple(r[1:]) for r in rows}


def assert_payments_match(inst: Installation) -> None:
    assert actual_payments(inst) == expected_payments(inst.state)
    # Every payment is linked to its order, of the same shop.
    unlinked = inst.core(
        """SELECT count(*) FROM core.payments p LEFT JOIN core.orders o ON o.id = p.order_id
           WHERE o.id IS NULL OR o.etsy_receipt_id <> p.etsy_receipt_id OR o.shop_id <> p.shop_id"""
    )
    assert unlinked[0][0] == 0


def assert_ledger_matches(inst: Installation) -> None:
    expected = {
        e.entry_id: (
            e.sequence_number, e.currency, Decimal(e.amount) / _divisor(inst.state, shop),
            Decimal(e.balance) / _divisor(inst.state, shop), e.ledger_type, e.reference_type, e.payment_id,
        )
        for shop, entries in inst.state.world.ledger.items()
        for e in entries
    }  # fmt: skip
    rows = inst.core(
        """SELECT etsy_entry_id, sequence_number, currency_code, amount, balance, ledger_type, reference_type,
                  etsy_payment_id FROM core.ledger_entries"""
    )
    assert {r[0]: tuple(r[1:]) for r in rows} == expected


def assert_sections_and_reviews_match(inst: Installation) -> None:
    shops = {s.etsy_shop_id: s.shop_id for s in inst.shops}
    sections = {
        (shops[shop.shop_id], s.shop_section_id, s.title, s.rank)
        for shop in inst.state.world.shops.values()
        for s in shop.sections
    }
    got = inst.core("SELECT shop_id, etsy_shop_section_id, title, rank FROM core.shop_sections")
    assert {tuple(r) for r in got} == sections
    reviews = {
        (shops[r.shop_id], r.transaction_id, r.listing_id, r.buyer_user_id, r.rating, r.review, r.language, r.created)
        for r in inst.state.world.reviews
    }
    got = inst.core(
        """SELECT rv.shop_id, rv.etsy_transaction_id, rv.etsy_listing_id, rv.etsy_buyer_user_id, rv.rating,
                  rv.review, rv.language, extract(epoch FROM rv.etsy_created_at)::bigint
           FROM core.reviews rv LEFT JOIN core.listings l ON l.id = rv.listing_id
           WHERE rv.listing_id IS NULL OR l.etsy_listing_id = rv.etsy_listing_id"""
    )
    assert {tuple(r) for r in got} == reviews


def assert_daily_fees_match(inst: Installation, receipts: list[Receipt]) -> None:
    """Fees and payout per day in shop_daily_metrics, for the days of the given receipts, against the emulator."""
    days = sorted({day_of(r.created) for r in receipts})
    with inst.runtime.db.engine.begin() as conn:
        for day in days:
            rebuild_shop_day(conn, day)
    shops = {s.shop_id: s.etsy_shop_id for s in inst.shops}
    expected: dict[tuple[int, Any], tuple[Decimal, Decimal]] = {
        (shop, day): (Decimal(0), Decimal(0)) for shop in shops for day in days
    }
    for r in inst.state.world.receipts.values():
        key = (next(s for s, e in shops.items() if e == r.shop_id), day_of(r.created))
        if key in expected and not r.is_canceled:
            d = _divisor(inst.state, r.shop_id)
            fees = fee(r.grandtotal, d)
            fees_then, paid_then = expected[key]
            expected[key] = (fees_then + Decimal(fees) / d, paid_then + Decimal(r.grandtotal - fees - r.adjusted) / d)
    rows = inst.core(
        """SELECT shop_id, metric_date, etsy_fees, net_revenue_after_fees FROM analytics.shop_daily_metrics
           WHERE metric_date = ANY(:d)""",
        d=days,
    )
    assert {(r[0], r[1]): (r[2], r[3]) for r in rows} == expected


def _refund_and_cancel(inst: Installation) -> tuple[Receipt, Receipt]:
    """A partial refund on one shop's shipped order and the cancellation of another shop's paid, open order."""
    state = inst.state
    refunded = inst.newest_refundable(inst.shops[0].etsy_shop_id)
    inst.admin("refund", receipt_id=refunded.receipt_id, amount=max(1, refunded.grandtotal // 3))
    shop = inst.shops[1].etsy_shop_id
    victim = max(
        (r for r in state.world.receipts.values() if r.shop_id == shop and r.is_paid and not r.is_canceled),
        key=lambda r: (not r.adjustments, r.created),
    )
    with state.lock:
        cancel(state, victim, state.clock.now(), stamp=False)
    return refunded, victim


def test_payments_ledger_sections_and_reviews_equal_the_emulator_full_then_incremental(tiny: Installation) -> None:
    assert {r.status for r in tiny.sync_all()} == {"succeeded"}
    assert_payments_match(tiny)
    assert_ledger_matches(tiny)
    assert_sections_and_reviews_match(tiny)
    currencies = {c for (c,) in tiny.core("SELECT DISTINCT currency_code FROM core.payments")}
    assert currencies == {"USD", "EUR"}

    refunded, canceled = _refund_and_cancel(tiny)
    tiny.admin("advance", hours=30)
    assert {r.status for r in tiny.sync_all()} == {"succeeded"}
    assert_payments_match(tiny)
    assert_ledger_matches(tiny)
    assert_sections_and_reviews_match(tiny)
    now = tiny.state.clock.now()
    new = [r for r in tiny.state.world.receipts.values() if r.created >= now - 30 * 3600]
    assert new, "the advance placed new orders"
    assert_daily_fees_match(tiny, [refunded, canceled, *new])
    for receipt, reason in ((refunded, "other"), (canceled, "order_canceled")):
        assert [a.reason_code for a in receipt.adjustments][-1] == reason
        row = tiny.core(
            "SELECT adjustments, adjusted_amount FROM core.payments WHERE etsy_receipt_id = :r", r=receipt.receipt_id
        )
        d = _divisor(tiny.state, receipt.shop_id)
        assert receipt.adjusted > 0
        assert tuple(row[0]) == (len(receipt.adjustments), Decimal(receipt.adjusted) / d)


def test_a_second_sync_without_changes_writes_no_payment(tiny: Installation) -> None:
    first = tiny.sync_all()
    assert all(r.rows["payments"] > 0 and r.rows["ledger_entries"] > 0 for r in first)
    again = tiny.sync_all()
    for result in again:
        for table in ("payments", "ledger_entries", "shop_sections", "reviews"):
            assert result.rows.get(table, 0) == 0, table
    assert_payments_match(tiny)


def test_a_section_deleted_on_etsy_leaves_core_and_a_renamed_one_follows(tiny: Installation) -> None:
    tiny.sync_all()
    shop = tiny.state.world.shops[tiny.shops[1].etsy_shop_id]
    with tiny.state.lock:
        gone = shop.sections.pop()
        shop.sections[0].title = "Renamed on Etsy"
        tiny.state.changed()
    assert {r.status for r in tiny.sync_all()} == {"succeeded"}
    assert_sections_and_reviews_match(tiny)
    left = tiny.core("SELECT count(*) FROM core.shop_sections WHERE etsy_shop_section_id = :s", s=gone.shop_section_id)
    assert left == [(0,)]
