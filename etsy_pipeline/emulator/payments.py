"""The shop's payment account: fees, payment adjustments (refunds, cancellations) and the ledger, as on Etsy.

Etsy does not stamp a receipt's `updated_timestamp` for refunds, nor for some cancellations, so a client finds
them through the money: every sale writes a `PAYMENT_GROSS` entry and a `PAYMENT_PROCESSING_FEE` entry that
refer to the receipt's Payment (`reference_type` "shop_payment", `reference_id` the payment_id), and every
adjustment writes a `REFUND_GROSS` entry that refers to it (`reference_type` "payment_adjustment",
`reference_id` the payment_adjustment_id, the adjustment itself in `payment_adjustments[]`), the shapes seen
on Etsy in etsy/open-api#302. `getPaymentAccountLedgerEntryPayments` turns either kind of entry into its Payment.

A refund adds a `ShopRefund` to the receipt's `refunds[]` and a `PaymentAdjustment` to its Payment. Cancelling
a paid order gives the buyer everything not yet refunded back through a `PaymentAdjustment` (reason_code
"order_canceled") but adds nothing to `refunds[]`: the receipt keeps status "canceled", which already says the
order is void, and `refunds[]` (with `Receipt.refunded`) keeps meaning what the seller refunded, so a client
summing it for net sales does not count a canceled order's money as a refund on top of dropping the order.

Entries are written in time order with a running `balance` and a `sequence_number` that grows by one, and are
never changed afterwards (nothing assigns to a LedgerEntry; the adjustment embedded in one is frozen).
"""

from __future__ import annotations

import bisect
import math
from typing import NamedTuple

from etsy_pipeline.emulator.models import Adjustment, LedgerEntry, Receipt, Refund, World

PAYMENT_GROSS = "PAYMENT_GROSS"
PAYMENT_PROCESSING_FEE = "PAYMENT_PROCESSING_FEE"
REFUND_GROSS = "REFUND_GROSS"
ORDER_CANCELED = "order_canceled"


def fee(amount: int, divisor: int) -> int:
    """Etsy-like fees: 6.5 % transaction fee plus a 3 % + 0.25 processing fee."""
    return math.ceil(amount * 0.095) + math.ceil(0.25 * divisor)


class Event(NamedTuple):
    """A ledger line waiting to be posted; `post` gives it its id, sequence number and balance.

    A tuple, and a sale's two events share one reference string and one payment id: the large scale posts a
    million of them at once.
    """

    created: int
    amount: int
    ledger_type: str
    payment_id: int
    reference_id: str
    adjustment: Adjustment | None = None


def sale_events(receipt: Receipt, divisor: int) -> list[Event]:
    """The gross payment and its fee, both at checkout."""
    total, payment_id = receipt.grandtotal, receipt.payment_id
    reference = str(payment_id)
    return [
        Event(receipt.created, total, PAYMENT_GROSS, payment_id, reference),
        Event(receipt.created, -fee(total, divisor), PAYMENT_PROCESSING_FEE, payment_id, reference),
    ]


def adjustment_event(adjustment: Adjustment) -> Event:
    reference = str(adjustment.payment_adjustment_id)
    return Event(adjustment.created, -adjustment.amount, REFUND_GROSS, adjustment.payment_id, reference, adjustment)


def _adjust(world: World, receipt: Receipt, amount: int, when: int, reason_code: str) -> Adjustment:
    seller = world.shops[receipt.shop_id].user_id
    adjustment = Adjustment(world.new_adjustment_id(), receipt.payment_id, seller, amount, when, reason_code)
    receipt.adjustments = (*receipt.adjustments, adjustment)
    return adjustment


def refund(world: World, receipt: Receipt, amount: int, when: int) -> Adjustment:
    """A seller's refund: listed in `refunds[]` and adjusted on the Payment; the status says how much."""
    full = receipt.adjusted + amount >= receipt.grandtotal
    receipt.refunds.append(Refund(amount, when, "Item damaged" if full else "Partial refund", None))
    receipt.status = "fully refunded" if full else "partially refunded"
    return _adjust(world, receipt, amount, when, "item_damaged" if full else "other")


def cancel(world: World, receipt: Receipt, when: int) -> Adjustment | None:
    """Cancel an order; a paid one is refunded in full on its Payment (not in `refunds[]`, see above)."""
    was_paid = receipt.is_paid
    receipt.status, receipt.is_paid = "canceled", False
    left = receipt.grandtotal - receipt.adjusted
    if not was_paid or left <= 0:
        return None
    return _adjust(world, receipt, left, when, ORDER_CANCELED)


def _created(event: Event) -> int:
    return event.created


def post(world: World, shop_id: int, events: list[Event]) -> None:
    """Append events to the shop's ledger in time order, each with the next sequence number and balance."""
    shop = world.shops[shop_id]
    entries = world.ledger[shop_id]
    # A stable sort on time alone: events of one second keep the (deterministic) order they were queued in.
    for event in sorted(events, key=_created):
        last = entries[-1] if entries else None
        adjustment = event.adjustment
        entries.append(
            LedgerEntry(
                entry_id=world.new_id(),
                ledger_id=shop_id,
                sequence_number=(last.sequence_number if last else 0) + 1,
                amount=event.amount,
                currency=shop.currency.code,
                description=event.ledger_type,
                balance=(last.balance if last else 0) + event.amount,
                created=event.created,
                ledger_type=event.ledger_type,
                reference_type="payment_adjustment" if adjustment else "shop_payment",
                reference_id=event.reference_id,
                payment_id=event.payment_id,
                adjustment=adjustment,
            )
        )


def find_entry(world: World, shop_id: int, entry_id: int) -> LedgerEntry | None:
    """Entries are appended with ever-growing ids, so a shop's ledger is sorted by entry_id: bisect it."""
    entries = world.ledger.get(shop_id, [])
    position = bisect.bisect_left(entries, entry_id, key=lambda e: e.entry_id)
    if position < len(entries) and entries[position].entry_id == entry_id:
        return entries[position]
    return None
