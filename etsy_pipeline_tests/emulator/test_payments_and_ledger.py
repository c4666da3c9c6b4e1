"""Refunds and cancellations leave Etsy's traces: payment adjustments and REFUND_GROSS ledger entries.

Etsy does not stamp `updated_timestamp` for them, so these tests check that a client which only reads the money
(ledger → ledger-entry payments) still finds them, with the shapes seen on Etsy (etsy/open-api#302).
"""

from __future__ import annotations

from typing import Any

from etsy_pipeline.emulator.models import Receipt
from etsy_pipeline_tests.emulator.conftest import Seller, login

DAY = 86_400


def _ledger(s: Seller, low: int, high: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    while True:
        page = s.get(
            f"/shops/{s.shop_id}/payment-account/ledger-entries",
            min_created=low,
            max_created=high,
            limit=100,
            offset=len(rows),
        ).json()
        rows += page["results"]
        if len(rows) >= page["count"]:
            return rows


def _entry_payments(s: Seller, *entry_ids: int | str) -> Any:
    ids = ",".join(str(i) for i in entry_ids)
    return s.get(f"/shops/{s.shop_id}/payment-account/ledger-entries/payments", ledger_entry_ids=ids)


def _modified_since(s: Seller, since: int) -> set[int]:
    page = s.get(f"/shops/{s.shop_id}/receipts", min_last_modified=since, limit=100).json()
    assert page["count"] <= 100
    return {r["receipt_id"] for r in page["results"]}


def _found_through_the_ledger(s: Seller, receipt: Receipt, low: int, high: int, amount: int, reason: str) -> None:
    """The one REFUND_GROSS entry of the window leads to the receipt's Payment carrying that very adjustment."""
    refunds = [e for e in _ledger(s, low, high) if e["ledger_type"] == "REFUND_GROSS"]
    mine = [e for e in refunds if e["payment_adjustments"][0]["payment_id"] == receipt.payment_id]
    assert len(mine) == 1
    entry = mine[0]
    assert (entry["description"], entry["reference_type"], entry["amount"]) == (
        "REFUND_GROSS",
        "payment_adjustment",
        -amount,
    )
    adjustment = entry["payment_adjustments"][0]
    assert entry["reference_id"] == str(adjustment["payment_adjustment_id"])
    assert (adjustment["total_adjustment_amount"], adjustment["reason_code"]) == (amount, reason)
    single = s.get(f"/shops/{s.shop_id}/payment-account/ledger-entries/{entry['entry_id']}")
    assert single.json() == entry
    payments = _entry_payments(s, entry["entry_id"]).json()
    assert payments["count"] == 1
    payment = payments["results"][0]
    assert (payment["receipt_id"], payment["payment_id"]) == (receipt.receipt_id, receipt.payment_id)
    assert adjustment in payment["payment_adjustments"]
    by_receipt = s.get(f"/shops/{s.shop_id}/receipts/{receipt.receipt_id}/payments").json()
    assert by_receipt["results"] == [payment]
    assert s.get(f"/shops/{s.shop_id}/payments", payment_ids=str(receipt.payment_id)).json()["results"] == [payment]


def test_a_refund_20_days_after_delivery_is_found_through_the_ledger_only(seller: Seller) -> None:
    delivered = {r.receipt_id: r.updated for r in seller.state.world.receipts.values() if r.is_delivered}
    seller.client.post("/_emulator/advance", json={"hours": 20 * 24})
    seller = login(seller.client, seller.state)
    receipts = seller.state.world.receipts
    receipt = next(r for i, t in delivered.items() if (r := receipts[i]).updated == t and not r.refunds)
    assert not receipt.refunds and receipt.shipments[-1].created < seller.state.clock.now() - 25 * DAY
    before = seller.get(f"/shops/{seller.shop_id}/receipts/{receipt.receipt_id}").json()
    now = seller.state.clock.now()
    answer = seller.client.post("/_emulator/refund", json={"receipt_id": receipt.receipt_id, "amount": 250}).json()
    assert answer["status"] == "partially refunded"
    after = seller.get(f"/shops/{seller.shop_id}/receipts/{receipt.receipt_id}").json()
    assert after["updated_timestamp"] == before["updated_timestamp"] < now
    assert after["refunds"][-1]["amount"]["amount"] == 250
    assert receipt.receipt_id not in _modified_since(seller, now - 60)
    _found_through_the_ledger(seller, receipt, now - 60, now + 60, 250, "other")


def test_an_unstamped_cancellation_is_found_through_the_ledger_only(seller: Seller) -> None:
    seller.client.post("/_emulator/quirks", json={"cancellations_bump_updated": 0.0})
    start = seller.state.clock.now()
    for _ in range(30):  # cancellations are rare; the seed makes the day it happens the same on every run
        summary = seller.client.post("/_emulator/advance", json={"hours": 24}).json()
        if summary.get("canceled"):
            break
    assert summary.get("canceled")
    seller = login(seller.client, seller.state)
    end = seller.state.clock.now()
    receipt = next(
        r
        for r in seller.state.world.receipts.values()
        if r.is_canceled and r.adjustments and r.adjustments[-1].created >= start
    )
    canceled_at = receipt.adjustments[-1].created
    body = seller.get(f"/shops/{seller.shop_id}/receipts/{receipt.receipt_id}").json()
    assert body["status"] == "canceled" and body["refunds"] == []  # documented choice: not a ShopRefund
    assert body["updated_timestamp"] < canceled_at  # Etsy did not stamp it
    assert receipt.receipt_id not in _modified_since(seller, canceled_at)
    _found_through_the_ledger(seller, receipt, start, end, receipt.grandtotal, "order_canceled")
    payment = seller.get(f"/shops/{seller.shop_id}/receipts/{receipt.receipt_id}/payments").json()["results"][0]
    assert payment["adjusted_gross"]["amount"] == 0


def test_sales_refer_to_the_payment_and_the_history_carries_every_adjustment(seller: Seller) -> None:
    world = seller.state.world
    entries = world.ledger[seller.shop_id]
    by_payment: dict[str, list[str]] = {}
    for e in entries:
        if e.reference_type == "shop_payment":
            by_payment.setdefault(e.reference_id or "", []).append(e.ledger_type)
    paid = [r for r in world.receipts.values() if r.is_paid or r.adjustments]
    assert {str(r.payment_id) for r in paid} == set(by_payment)
    assert {tuple(kinds) for kinds in by_payment.values()} == {("PAYMENT_GROSS", "PAYMENT_PROCESSING_FEE")}
    adjusted = {e.adjustment.payment_adjustment_id: e for e in entries if e.adjustment is not None}
    adjustments = [a for r in world.receipts.values() for a in r.adjustments]
    assert {a.payment_adjustment_id for a in adjustments} == set(adjusted)
    assert {a.reason_code for a in adjustments} == {"item_damaged", "other", "order_canceled"}
    for r in world.receipts.values():
        assert r.refunded == sum(a.amount for a in r.adjustments if a.reason_code != "order_canceled")
        assert r.adjusted == (r.grandtotal if r.is_canceled else r.refunded)


def test_balances_and_sequence_numbers_hold_and_entries_never_change(seller: Seller) -> None:
    def rendered() -> list[dict[str, Any]]:
        return _ledger(seller, 946_684_800, seller.state.clock.now() + DAY)

    before = rendered()
    target = next(r for r in seller.state.world.receipts.values() if r.is_shipped and not r.adjustments)
    seller.client.post("/_emulator/refund", json={"receipt_id": target.receipt_id})
    seller.client.post("/_emulator/advance", json={"hours": 72})
    seller = login(seller.client, seller.state)
    after = rendered()
    assert after[: len(before)] == before and len(after) > len(before) + 1
    assert [e["sequence_number"] for e in after] == list(range(1, len(after) + 1))
    balance = 0
    for e in after:
        balance += e["amount"]
        assert e["balance"] == balance
    assert [e["created_timestamp"] for e in after] == sorted(e["created_timestamp"] for e in after)
    assert seller.client.post("/_emulator/refund", json={"receipt_id": target.receipt_id}).status_code == 400


def test_bad_ids_get_etsys_answers(seller: Seller) -> None:
    shop = seller.shop_id
    receipt = next(iter(seller.state.world.receipts.values()))
    unknown = seller.get(f"/shops/{shop}/payments", payment_ids=f"{receipt.payment_id},1")
    assert unknown.status_code == 404 and unknown.json() == {"error": "Could not find a Payment with payment_id = 1"}
    for bad in ("abc", "0", ",".join(["5"] * 101), ""):
        assert seller.get(f"/shops/{shop}/payments", payment_ids=bad).status_code == 400, bad
        assert _entry_payments(seller, *([bad] if bad else [])).status_code == 400, bad
    missing = seller.get(f"/shops/{shop}/payment-account/ledger-entries/payments")
    assert missing.json() == {"error": "Missing Input Parameter: [ledger_entry_ids]"}  # the literal route won
    entry = seller.state.world.ledger[shop][0]
    assert _entry_payments(seller, entry.entry_id, 7).status_code == 400
    assert seller.get(f"/shops/{shop}/payment-account/ledger-entries/7").status_code == 400
    assert seller.get(f"/shops/{shop}/payment-account/ledger-entries/x").status_code == 400
    sale = _entry_payments(seller, entry.entry_id, entry.entry_id + 1).json()  # a sale and its fee: one payment
    assert [p["payment_id"] for p in sale["results"]] == [entry.payment_id]
    stats = seller.client.get("/_emulator/stats").json()["calls"]
    assert stats["getPayments"] == 5 and stats["getShopPaymentAccountLedgerEntry"] == 2
    assert stats["getPaymentAccountLedgerEntryPayments"] == 7
