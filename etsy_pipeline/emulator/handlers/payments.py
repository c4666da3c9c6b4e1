"""Payment and ledger operations: a receipt's Payment, Payments by id, ledger entries and what they refer to.

Etsy's document sets no maximum on the id lists of getPayments and getPaymentAccountLedgerEntryPayments; the
emulator caps them at 100 like Etsy's other batch operations, so a client that works here stays within what
Etsy takes. Bad ids: a malformed one is a 400 naming the parameter; an unknown payment is the 404 that
getPayments documents; an unknown ledger entry is a 400 (the two ledger operations document no 404).
"""

from __future__ import annotations

import bisect

from etsy_pipeline.emulator import params, payments, render_sales
from etsy_pipeline.emulator.errors import BadRequest, NotFound
from etsy_pipeline.emulator.handlers.base import Call, Json, owned_shop, paged, receipt
from etsy_pipeline.emulator.models import PAYMENT_ID_OFFSET, LedgerEntry, Receipt, Shop

MAX_IDS = 100


def _has_payment(r: Receipt) -> bool:
    """Every order is paid at checkout; an order canceled before payment (or marked unpaid) has none."""
    return r.is_paid or bool(r.adjustments)


def _payment_receipt(call: Call, shop: Shop, payment_id: int) -> Receipt | None:
    found = call.state.world.receipts.get(payment_id - PAYMENT_ID_OFFSET)
    if found is None or found.shop_id != shop.shop_id or not _has_payment(found):
        return None
    return found


def get_payment_by_receipt(call: Call) -> Json:
    r = receipt(call)
    if not _has_payment(r):
        return paged(0, [])
    return paged(1, [render_sales.payment(r, call.state.world.shops[r.shop_id])])


def get_payments(call: Call) -> Json:
    found = owned_shop(call)
    ids = list(dict.fromkeys(params.id_list(call.query, "payment_ids", maximum=MAX_IDS)))
    receipts = {ident: _payment_receipt(call, found, ident) for ident in ids}
    missing = [str(ident) for ident, r in receipts.items() if r is None]
    if missing:
        raise NotFound(f"Could not find a Payment with payment_id = {', '.join(missing)}")
    results = [render_sales.payment(r, found) for r in receipts.values() if r is not None]
    return paged(len(results), results)


def get_ledger(call: Call) -> Json:
    found = owned_shop(call)
    low = params.integer(call.query, "min_created", minimum=params.MIN_TIMESTAMP, required=True)
    high = params.integer(call.query, "max_created", minimum=params.MIN_TIMESTAMP, required=True)
    assert low is not None and high is not None
    if high < low:
        raise BadRequest("max_created must be greater than or equal to min_created")
    limit, offset = params.page(call.query)
    entries = call.state.world.ledger[found.shop_id]
    keys = call.state.memo(("ledger", found.shop_id), lambda: [e.created for e in entries])
    matching = entries[bisect.bisect_left(keys, low) : bisect.bisect_right(keys, high)]
    return paged(len(matching), [render_sales.ledger_entry(e) for e in matching[offset : offset + limit]])


def _entry(call: Call, shop: Shop, entry_id: int) -> LedgerEntry:
    found = payments.find_entry(call.state.world, shop.shop_id, entry_id)
    if found is None:
        raise BadRequest(f"Invalid value for ledger_entry_id: {entry_id} is not an entry of this shop's ledger")
    return found


def get_ledger_entry(call: Call) -> Json:
    found = owned_shop(call)
    return render_sales.ledger_entry(_entry(call, found, call.path["ledger_entry_id"]))


def get_ledger_entry_payments(call: Call) -> Json:
    """The Payments the entries refer to (a shop_payment directly, a payment_adjustment through its payment),
    each once, in the order of the entries; entries about no payment add nothing."""
    found = owned_shop(call)
    ids = params.id_list(call.query, "ledger_entry_ids", maximum=MAX_IDS)
    payment_ids = [_entry(call, found, ident).payment_id for ident in ids]
    results = []
    for payment_id in dict.fromkeys(p for p in payment_ids if p is not None):
        r = _payment_receipt(call, found, payment_id)
        if r is not None:
            results.append(render_sales.payment(r, found))
    return paged(len(results), results)
