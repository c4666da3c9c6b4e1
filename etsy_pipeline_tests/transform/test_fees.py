"""Etsy's fees and the net after fees in `analytics.shop_daily_metrics`, per day, against the emulator's own
receipts and its fee rule, on days that hold canceled orders and full and partial refunds."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from etsy_pipeline.emulator.payments import fee
from etsy_pipeline_tests.transform.conftest import Prepared
from etsy_pipeline_tests.transform.expected import day_of, live_receipts


def expected_fees(p: Prepared, etsy_shop_id: int, days: list[date]) -> dict[date, tuple[Decimal, Decimal]]:
    """Per day: fees and what Etsy pays out, over the orders that count (canceled ones left out)."""
    divisor = p.state.world.shops[etsy_shop_id].currency.divisor
    out = {d: (Decimal(0), Decimal(0)) for d in days}
    for r in live_receipts(p.state, etsy_shop_id):
        day = day_of(r.created)
        if day in out:
            fees = fee(r.grandtotal, divisor)
            paid_out = r.grandtotal - fees - r.adjusted
            out[day] = (out[day][0] + Decimal(fees) / divisor, out[day][1] + Decimal(paid_out) / divisor)
    return out


def test_fees_and_net_after_fees_add_up_per_day(prepared: Prepared) -> None:
    days = prepared.around(3, 3)
    prepared.rebuild(days)
    for shop in prepared.inst.shops:
        found = prepared.core(
            "SELECT metric_date, etsy_fees, net_revenue_after_fees FROM analytics.shop_daily_metrics "
            "WHERE shop_id = :s AND metric_date = ANY(:d)",
            s=shop.shop_id,
            d=days,
        )
        expected = expected_fees(prepared, shop.etsy_shop_id, days)
        assert {r[0]: (r[1], r[2]) for r in found} == expected, shop.etsy_shop_id
        # The busy day holds refunded orders, so the payout there is below gross less fees.
        refunded = [
            r
            for r in live_receipts(prepared.state, shop.etsy_shop_id)
            if day_of(r.created) == prepared.day and r.refunds
        ]
        assert refunded and expected[prepared.day][0] > 0


def test_the_fees_of_a_day_equal_its_payments_fees_in_core(prepared: Prepared) -> None:
    """The daily figures and core.payments agree: every counted order's payment is in the day's sum."""
    prepared.rebuild([prepared.day])
    for shop in prepared.inst.shops:
        daily = prepared.core(
            "SELECT etsy_fees FROM analytics.shop_daily_metrics WHERE shop_id = :s AND metric_date = :d",
            s=shop.shop_id,
            d=prepared.day,
        )
        ids = [
            r.receipt_id for r in live_receipts(prepared.state, shop.etsy_shop_id) if day_of(r.created) == prepared.day
        ]
        payments = prepared.core(
            "SELECT count(*), sum(coalesce(adjusted_fees, fees)) FROM core.payments WHERE etsy_receipt_id = ANY(:r)",
            r=ids,
        )
        assert payments[0][0] == len(ids) and daily == [(payments[0][1],)]
