"""`advance`: move the simulated clock and let the shops live through that time.

New orders arrive at each shop's historical rate (with its seasonality), stock goes down with sales and
listings sell out, paid orders ship and shipped ones are delivered, some orders are canceled or refunded,
sellers edit listings, buyers leave reviews, and listing views accumulate (tabulated once per simulated day,
as Etsy does). Refunds and some cancellations leave `updated_timestamp` alone, as on Etsy, and show up in the
payment ledger instead (see payments.py). The randomness is
seeded by the emulator's seed and the number of advances, so the same sequence of calls gives the same data.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections import Counter
from typing import Any

from etsy_pipeline.emulator import payments
from etsy_pipeline.emulator.generator import CARRIERS, DAY, Generator, _season_weights
from etsy_pipeline.emulator.models import Receipt, Shop
from etsy_pipeline.emulator.state import EmulatorState

OPEN_WINDOW = 45 * DAY  # receipts older than this no longer change


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _ledger(state: EmulatorState, shop_id: int, events: list[payments.Event]) -> None:
    """Queue ledger events; `_post_ledger` writes each shop's queue in time order with running balances."""
    state.pending_ledger.setdefault(shop_id, []).extend(events)
    if not state.advancing:
        _post_ledger(state)


def _post_ledger(state: EmulatorState) -> None:
    for shop_id, events in state.pending_ledger.items():
        payments.post(state.world, shop_id, events)
    state.pending_ledger.clear()


def _touch(state: EmulatorState, receipt: Receipt, when: int) -> None:
    old = receipt.updated
    receipt.updated = max(receipt.updated, when)
    state.receipt_index[receipt.shop_id].touch(receipt, old)


def refund(state: EmulatorState, receipt: Receipt, amount: int, when: int) -> None:
    """Refund part or all of an order. Etsy does not stamp `updated_timestamp` for it (quirk on by default)."""
    adjustment = payments.refund(state.world, receipt, amount, when)
    if state.quirks.refunds_bump_updated:
        _touch(state, receipt, when)
    _ledger(state, receipt.shop_id, [payments.adjustment_event(adjustment)])
    state.changed()


def cancel(state: EmulatorState, receipt: Receipt, when: int, *, stamp: bool) -> None:
    """Cancel an order: a paid one is refunded on its Payment. Etsy stamps `updated_timestamp` only sometimes."""
    adjustment = payments.cancel(state.world, receipt, when)
    if stamp:
        _touch(state, receipt, when)
    if adjustment is not None:
        _ledger(state, receipt.shop_id, [payments.adjustment_event(adjustment)])
    state.changed()


def _new_orders(state: EmulatorState, gen: Generator, shop: Shop, start: int, end: int, out: Counter[str]) -> None:
    rng = gen.rng
    sellable = [x for x in state.world.listings.values() if x.shop_id == shop.shop_id and x.state == "active"]
    if not sellable:
        return
    weights = list(itertools.accumulate(1.0 + x.num_favorers for x in sellable))
    per_second = gen.scale.receipts / (gen.scale.days * DAY)
    season = _season_weights(start, 1)[0] / 1.5
    for created in sorted(rng.randrange(start, end) for _ in range(_poisson(rng, per_second * season * (end - start)))):
        receipt = gen.make_receipt(shop, sellable, weights, created, created)
        state.receipt_index[shop.shop_id].add(receipt)
        for t in receipt.transactions:
            state.transactions[t.transaction_id] = receipt.receipt_id
            listing = state.world.listings[t.listing_id]
            for product in listing.inventory.products:
                if product.product_id == t.product_id:
                    product.offering.quantity = max(0, product.offering.quantity - t.quantity)
            if listing.quantity == 0 and listing.state == "active":
                listing.state, listing.state_timestamp, listing.updated = "sold_out", created, created
                out["listings_sold_out"] += 1
        _ledger(state, shop.shop_id, payments.sale_events(receipt, shop.currency.divisor))
        out["new_receipts"] += 1


def _progress(state: EmulatorState, gen: Generator, shop: Shop, start: int, end: int, out: Counter[str]) -> None:
    rng = gen.rng
    index = state.receipt_index[shop.shop_id].by_created
    recent = index[bisect.bisect_left(index, (start - OPEN_WINDOW, -1)) :]
    for _, receipt_id in list(recent):
        r = state.world.receipts[receipt_id]
        if r.is_canceled or r.created >= end:
            continue
        if not r.is_shipped:
            if rng.random() < 0.001 * (end - start) / 3600:
                when = rng.randrange(start, end)
                cancel(state, r, when, stamp=rng.random() < state.quirks.cancellations_bump_updated)
                out["canceled"] += 1
                continue
            if end - r.created > DAY and rng.random() < min(1.0, (end - start) / (2 * DAY)):
                when = max(start, r.created + DAY // 2) + rng.randrange(max(1, min(end - start, DAY)))
                when = min(when, end - 1)
                old = r.updated
                gen.ship(r, when, rng.choice(CARRIERS), f"TRK{rng.randrange(10**11):011d}")
                state.receipt_index[shop.shop_id].touch(r, old)
                out["shipped"] += 1
            continue
        if not r.is_delivered and r.shipments and end - r.shipments[-1].created > 5 * DAY:
            r.is_delivered = True
            out["delivered"] += 1
            gen.maybe_review(r, end)
        elif r.is_delivered and not r.refunds and rng.random() < 0.00005 * (end - start) / 3600:
            full = rng.random() < 0.5
            refund(state, r, r.grandtotal if full else max(1, r.subtotal // 4), rng.randrange(start, end))
            out["refunded"] += 1


def _listings(state: EmulatorState, rng: random.Random, shop: Shop, start: int, end: int, out: Counter[str]) -> None:
    active = [x for x in state.world.listings.values() if x.shop_id == shop.shop_id and x.state == "active"]
    hours = (end - start) / 3600
    for listing in active:
        views = _poisson(rng, (1 + listing.num_favorers) * 0.05 * hours)
        if state.quirks.views_tabulated_daily:
            listing.pending_views += views
        else:
            listing.views += views
        if rng.random() < 0.002 * hours:
            listing.num_favorers += 1
    for listing in rng.sample(active, min(len(active), _poisson(rng, 0.02 * hours * max(1, len(active) / 50)))):
        listing.title = listing.title.split(" (")[0] + f" ({rng.choice(['new', 'restocked', 'updated'])})"
        listing.updated = rng.randrange(start, end)
        out["listing_edits"] += 1


def _tabulate_views(state: EmulatorState, end: int, out: Counter[str]) -> None:
    day = end // DAY
    if day <= state.last_tabulation_day:
        return
    state.last_tabulation_day = day
    for listing in state.world.listings.values():
        if listing.pending_views and listing.state == "active":
            listing.views += listing.pending_views
            listing.pending_views = 0
            out["views_tabulated"] += 1


def advance(state: EmulatorState, hours: float) -> dict[str, Any]:
    seconds = max(1, int(hours * 3600))
    start = state.clock.now()
    end = start + seconds
    state.advances += 1
    state.advancing = True
    gen = Generator(f"{state.config.seed}:{state.advances}", state.config.scale, world=state.world)
    out: Counter[str] = Counter()
    reviews_before = len(state.world.reviews)
    for shop in state.world.shops.values():
        _progress(state, gen, shop, start, end, out)
        _new_orders(state, gen, shop, start, end, out)
        _listings(state, gen.rng, shop, start, end, out)
        shop.updated = end - 1
    state.world.reviews.sort(key=lambda r: r.created)
    out["new_reviews"] = len(state.world.reviews) - reviews_before
    _post_ledger(state)
    state.advancing = False
    state.clock.advance(seconds)
    _tabulate_views(state, state.clock.now(), out)
    state.changed()
    return {"hours": hours, "now": state.clock.now(), **out}
