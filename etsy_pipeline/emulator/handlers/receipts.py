"""Receipt, transaction, shipment, payment and ledger operations."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

from etsy_pipeline.emulator import carriers, params, render_sales
from etsy_pipeline.emulator.errors import BadRequest, Conflict
from etsy_pipeline.emulator.handlers.base import Call, Json, owned_shop, paged, receipt
from etsy_pipeline.emulator.models import Receipt, Shipment, Shop
from etsy_pipeline.emulator.state import EmulatorState

SORT_KEYS: dict[str, Callable[[Receipt], int]] = {
    "created": lambda r: r.created,
    "updated": lambda r: r.updated,
    "receipt_id": lambda r: r.receipt_id,
}


def _render(state: EmulatorState, shop: Shop, r: Receipt) -> Json:
    return render_sales.receipt(r, shop, state.world.users[shop.user_id].email)


def _window(pairs: list[tuple[int, int]], low: int | None, high: int | None) -> list[int]:
    start = 0 if low is None else bisect.bisect_left(pairs, (low, -1))
    end = len(pairs) if high is None else bisect.bisect_right(pairs, (high, 1 << 62))
    return [ident for _, ident in pairs[start:end]]


def query_receipts(call: Call, shop: Shop) -> list[int]:
    q = call.query
    low_c = params.integer(q, "min_created", minimum=params.MIN_TIMESTAMP)
    high_c = params.integer(q, "max_created", minimum=params.MIN_TIMESTAMP)
    low_m = params.integer(q, "min_last_modified", minimum=params.MIN_TIMESTAMP)
    high_m = params.integer(q, "max_last_modified", minimum=params.MIN_TIMESTAMP)
    sort_on = params.choice(q, "sort_on", tuple(SORT_KEYS), "created")
    descending = params.descending(q)
    flags = {name: params.boolean(q, name) for name in ("was_paid", "was_shipped", "was_delivered", "was_canceled")}
    state = call.state

    def compute() -> list[int]:
        index = state.receipt_index[shop.shop_id]
        if low_m is not None or high_m is not None:
            ids = _window(index.by_updated, low_m, high_m)
        else:
            ids = _window(index.by_created, low_c, high_c)
        receipts = state.world.receipts
        chosen = []
        for ident in ids:
            r = receipts[ident]
            if (low_c is not None and r.created < low_c) or (high_c is not None and r.created > high_c):
                continue
            if (low_m is not None and r.updated < low_m) or (high_m is not None and r.updated > high_m):
                continue
            if flags["was_paid"] is not None and r.is_paid != flags["was_paid"]:
                continue
            if flags["was_shipped"] is not None and r.is_shipped != flags["was_shipped"]:
                continue
            if flags["was_delivered"] is not None and r.is_delivered != flags["was_delivered"]:
                continue
            if flags["was_canceled"] is not None and r.is_canceled != flags["was_canceled"]:
                continue
            chosen.append(r)
        key = SORT_KEYS[sort_on]
        chosen.sort(key=lambda r: (key(r), r.receipt_id), reverse=descending)
        return [r.receipt_id for r in chosen]

    key = ("receipts", shop.shop_id, low_c, high_c, low_m, high_m, sort_on, descending, *flags.values())
    return state.memo(key, compute)


def get_receipts(call: Call) -> Json:
    found = owned_shop(call)
    limit, offset = params.page(call.query)
    ids = query_receipts(call, found)
    receipts = call.state.world.receipts
    results = [_render(call.state, found, receipts[i]) for i in ids[offset : offset + limit]]
    call.state.faults.corrupt(results)
    call.state.stats.records_served["receipts"] += len(results)
    return paged(len(ids), results)


def get_receipt(call: Call) -> Json:
    r = receipt(call)
    return _render(call.state, call.state.world.shops[r.shop_id], r)


def get_receipt_transactions(call: Call) -> Json:
    r = receipt(call)
    found = call.state.world.shops[r.shop_id]
    results = [render_sales.transaction(t, r, found.user_id, found.currency) for t in r.transactions]
    return paged(len(results), results)


def get_shop_transactions(call: Call) -> Json:
    """Every transaction of the shop by transaction_id, newest first, with no date filter (as on Etsy)."""
    found = owned_shop(call)
    limit, offset = params.page(call.query)
    state = call.state

    def compute() -> list[int]:
        index = state.receipt_index[found.shop_id].by_created
        ids = [t.transaction_id for _, rid in index for t in state.world.receipts[rid].transactions]
        return sorted(ids, reverse=True)

    ids = state.memo(("transactions", found.shop_id), compute)
    results = []
    for tid in ids[offset : offset + limit]:
        r = state.world.receipts[state.transactions[tid]]
        t = next(t for t in r.transactions if t.transaction_id == tid)
        results.append(render_sales.transaction(t, r, found.user_id, found.currency))
    return paged(len(ids), results)


def _touch(state: EmulatorState, r: Receipt, when: int) -> None:
    old = r.updated
    r.updated = when
    state.receipt_index[r.shop_id].touch(r, old)
    state.changed()


def update_receipt(call: Call) -> Json:
    """Etsy documents 200, 400, 401, 403, 404 and 500 here (no 409): a canceled receipt is a 400."""
    r = receipt(call)
    form = {k: v[-1] for k, v in call.form.items()}
    unknown = sorted(set(form) - {"was_shipped", "was_paid"})
    if unknown:
        raise BadRequest(f"Unknown parameter '{unknown[0]}': updateShopReceipt takes was_shipped and was_paid")
    was_shipped = params.boolean(form, "was_shipped")
    was_paid = params.boolean(form, "was_paid")
    if was_shipped is None and was_paid is None:
        raise BadRequest("Missing Input Parameter: [was_shipped] or [was_paid]")
    if r.is_canceled:
        raise BadRequest(f"Receipt {r.receipt_id} is canceled and cannot be updated")
    if was_paid is not None:
        r.is_paid = was_paid
    if was_shipped is not None and was_shipped != r.is_shipped:
        r.is_shipped = was_shipped
        if was_shipped and r.status == "paid":
            r.status = "completed"
    _touch(call.state, r, call.state.clock.now())
    call.state.stats.receipt_writes[r.receipt_id] += 1
    return _render(call.state, call.state.world.shops[r.shop_id], r)


def tracking_required(r: Receipt, shop: Shop) -> bool:
    """Etsy's rule: tracking code and carrier are required within the US for orders over $10, and to India."""
    if r.address.country_iso == "IN":
        return True
    domestic_us = shop.country_iso == "US" and r.address.country_iso == "US"
    return domestic_us and shop.currency.code == "USD" and r.grandtotal > 10 * shop.currency.divisor


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise BadRequest(f"Invalid value for {name}: must be a non-empty string")
    return value


def create_shipment(call: Call) -> Json:
    """Each successful call adds a shipment and e-mails the buyer: deliberately not idempotent, like Etsy."""
    r = receipt(call)
    if not isinstance(call.body, dict):
        raise BadRequest("Expected a JSON object body")
    body = call.body
    tracking, carrier = _text(body, "tracking_code"), _text(body, "carrier_name")
    _text(body, "note_to_buyer")
    if (tracking is None) != (carrier is None):
        raise BadRequest("tracking_code and carrier_name must be sent together")
    if carrier is not None and not carriers.accepted(carrier):
        raise BadRequest(
            f"Invalid value for carrier_name: '{carrier}' is not a carrier from getShippingCarriers; "
            "use 'other' for unsupported carriers"
        )
    state = call.state
    shop = state.world.shops[r.shop_id]
    if tracking is None and tracking_required(r, shop):
        raise BadRequest(
            "tracking_code and carrier_name are required for orders shipped within the US over $10 and to India"
        )
    if r.is_canceled:
        raise Conflict(f"Receipt {r.receipt_id} is canceled and cannot be shipped")
    now = state.clock.now()
    if tracking is not None and carrier is not None:
        r.shipments.append(Shipment(state.world.new_id(), now, carrier.strip().lower(), tracking))
        state.stats.shipments_created[r.receipt_id] += 1
        state.stats.buyer_emails[r.receipt_id] += 1
    r.is_shipped = True
    if r.status == "paid":
        r.status = "completed"
    for t in r.transactions:
        t.shipped = t.shipped or now
    _touch(state, r, now)
    return _render(state, shop, r)
