"""What every analytics table should hold, computed in Python from the emulator's own objects.

Nothing here reads the production SQL: the rules are the documented ones (docs/analytics.md, the column
comments of migration 0003), written again independently, so a broken rule in `transform/analytics.py` or
`transform/core.py` shows up as a difference. Listing snapshots cannot come from the emulator (the sync takes
them), so the fixture records the emulator's counters at each sync and passes them in as `Snapshots`.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from etsy_pipeline.emulator.models import Receipt
from etsy_pipeline.emulator.state import EmulatorState

FOUR_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Counters:
    """An Etsy listing's lifetime counters and stock as one sync saw them."""

    views: int
    favorites: int
    quantity: int


# snapshot day -> Etsy listing id -> counters
Snapshots = dict[date, dict[int, Counters]]


def day_of(ts: int, tz: str = "UTC") -> date:
    return datetime.fromtimestamp(ts, tz=ZoneInfo(tz)).date()


def round4(value: Decimal) -> Decimal:
    """PostgreSQL's round(numeric, 4): half away from zero (all values here are positive)."""
    return value.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP)


def receipts_of(state: EmulatorState, etsy_shop_id: int) -> list[Receipt]:
    return [r for r in state.world.receipts.values() if r.shop_id == etsy_shop_id]


def live_receipts(state: EmulatorState, etsy_shop_id: int) -> list[Receipt]:
    """Orders that count: every receipt of the shop but the canceled ones."""
    return [r for r in receipts_of(state, etsy_shop_id) if r.status != "canceled"]


def _divisor(state: EmulatorState, etsy_shop_id: int) -> Decimal:
    return Decimal(state.world.shops[etsy_shop_id].currency.divisor)


def gains(snapshots: Snapshots, listing_ids: set[int], day: date) -> dict[int, tuple[int, int]]:
    """Views and favorites gained on `day` per listing snapshotted that day: the growth since the listing's
    previous snapshot; a first snapshot gains nothing."""
    today = snapshots.get(day, {})
    earlier = sorted(d for d in snapshots if d < day)
    out: dict[int, tuple[int, int]] = {}
    for listing_id in listing_ids & set(today):
        previous = next((snapshots[d][listing_id] for d in reversed(earlier) if listing_id in snapshots[d]), None)
        now = today[listing_id]
        if previous is None:
            out[listing_id] = (0, 0)
        else:
            out[listing_id] = (max(now.views - previous.views, 0), max(now.favorites - previous.favorites, 0))
    return out


def shop_listing_ids(state: EmulatorState, etsy_shop_id: int) -> set[int]:
    return {x.listing_id for x in state.world.listings.values() if x.shop_id == etsy_shop_id}


def shop_day(
    state: EmulatorState, etsy_shop_id: int, day: date, *, tz: str = "UTC", snapshots: Snapshots | None = None
) -> dict[str, Any]:
    """Every column of `analytics.shop_daily_metrics` for one shop and day."""
    d = _divisor(state, etsy_shop_id)
    live = live_receipts(state, etsy_shop_id)
    today = [r for r in live if day_of(r.created, tz) == day]
    first: dict[int, date] = {}
    for r in sorted(live, key=lambda r: r.created):
        first.setdefault(r.buyer_user_id, day_of(r.created, tz))
    buyers = {r.buyer_user_id for r in today}
    new = sum(1 for b in buyers if first[b] == day)
    gross = sum((Decimal(r.total_price) for r in today), Decimal(0)) / d
    discounts = sum((Decimal(r.discount) for r in today), Decimal(0)) / d
    refunds = sum((Decimal(r.refunded) for r in today), Decimal(0)) / d
    gained = gains(snapshots or {}, shop_listing_ids(state, etsy_shop_id), day)
    views = sum(v for v, _ in gained.values())
    ratings = [v.rating for v in state.world.reviews if v.shop_id == etsy_shop_id and day_of(v.created, tz) == day]
    orders = len(today)
    return {
        "currency_code": state.world.shops[etsy_shop_id].currency.code,
        "orders": orders,
        "items_sold": sum(t.quantity for r in today for t in r.transactions),
        "gross_sales": gross,
        "discounts": discounts,
        "shipping": sum((Decimal(r.shipping) for r in today), Decimal(0)) / d,
        "tax": sum((Decimal(r.tax) for r in today), Decimal(0)) / d,  # the emulator charges no VAT
        "refunds": refunds,
        "net_sales": gross - discounts - refunds,
        "average_order_value": round4((gross - discounts) / orders) if orders else None,
        "distinct_buyers": len(buyers),
        "new_buyers": new,
        "returning_buyers": len(buyers) - new,
        "views_gained": views,
        "favorites_gained": sum(f for _, f in gained.values()),
        "orders_per_1000_views": round4(Decimal(1000 * orders) / views) if views else None,
        "repeat_customer_rate": round4(Decimal(len(buyers) - new) / len(buyers)) if buyers else None,
        "reviews": len(ratings),
        "average_rating": round4(Decimal(sum(ratings)) / len(ratings)) if ratings else None,
    }


def listing_day(
    state: EmulatorState, etsy_shop_id: int, day: date, *, tz: str = "UTC", snapshots: Snapshots | None = None
) -> dict[int, dict[str, Any]]:
    """`analytics.listing_daily_metrics` for one shop and day, by Etsy listing id: listings that sold that day
    (canceled orders left out) or were snapshotted that day."""
    snapshots = snapshots or {}
    d = _divisor(state, etsy_shop_id)
    units: dict[int, int] = defaultdict(int)
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    for r in live_receipts(state, etsy_shop_id):
        if day_of(r.created, tz) == day:
            for t in r.transactions:
                units[t.listing_id] += t.quantity
                revenue[t.listing_id] += Decimal(t.price * t.quantity) / d
    gained = gains(snapshots, shop_listing_ids(state, etsy_shop_id), day)
    upto = sorted(s for s in snapshots if s <= day)
    out: dict[int, dict[str, Any]] = {}
    for listing_id in set(units) | set(gained):
        stock = next((snapshots[s][listing_id].quantity for s in reversed(upto) if listing_id in snapshots[s]), None)
        views, favorites = gained.get(listing_id, (0, 0))
        out[listing_id] = {
            "currency_code": state.world.shops[etsy_shop_id].currency.code,
            "views_gained": views,
            "favorites_gained": favorites,
            "units_sold": units.get(listing_id, 0),
            "revenue": revenue.get(listing_id, Decimal(0)),
            "stock_at_day_end": stock,
        }
    return out


@dataclass(frozen=True)
class Buyer:
    """A buyer's lifetime figures at a shop over its orders that count."""

    first_order_at: int
    last_order_at: int
    order_count: int
    units: int
    total_spent: Decimal
    last_name: str  # the name on the latest order (what core.customers keeps, encrypted)


def buyers(state: EmulatorState, etsy_shop_id: int, *, until: date | None = None, tz: str = "UTC") -> dict[int, Buyer]:
    """Per buyer: canceled orders left out, refunds taken off the grand totals; orders placed up to the end of
    `until` (in `tz`) when given."""
    d = _divisor(state, etsy_shop_id)
    mine: dict[int, list[Receipt]] = defaultdict(list)
    for r in live_receipts(state, etsy_shop_id):
        if until is None or day_of(r.created, tz) <= until:
            mine[r.buyer_user_id].append(r)
    out: dict[int, Buyer] = {}
    for buyer, orders in mine.items():
        latest = max(orders, key=lambda r: r.created)
        out[buyer] = Buyer(
            first_order_at=min(r.created for r in orders),
            last_order_at=latest.created,
            order_count=len(orders),
            units=sum(t.quantity for r in orders for t in r.transactions),
            total_spent=sum((Decimal(r.grandtotal - r.refunded) for r in orders), Decimal(0)) / d,
            last_name=latest.address.name,
        )
    return out


def customers_as_of(
    state: EmulatorState, etsy_shop_id: int, day: date, *, tz: str = "UTC"
) -> dict[int, dict[str, Any]]:
    """`analytics.customers` of one shop as of a day, by buyer."""
    return {
        buyer: {
            "order_count": b.order_count,
            "units": b.units,
            "total_spent": b.total_spent,
            "average_order_value": round4(b.total_spent / b.order_count),
            "days_since_last_order": (day - day_of(b.last_order_at, tz)).days,
            "first_order_at": b.first_order_at,
            "last_order_at": b.last_order_at,
        }
        for buyer, b in buyers(state, etsy_shop_id, until=day, tz=tz).items()
    }


# docs/analytics.md, "Segments, first matching rule wins", written out again.
SEGMENTS: list[tuple[str, Any]] = [
    ("Champions", lambda r, fm: r >= 4 and fm >= 4),
    ("Loyal", lambda r, fm: r >= 3 and fm >= 3),
    ("Potential Loyalists", lambda r, fm: r >= 4 and fm >= 2),
    ("New", lambda r, fm: r == 5 and fm == 1),
    ("Promising", lambda r, fm: r == 4 and fm == 1),
    ("Need Attention", lambda r, fm: r == 3 and fm == 2),
    ("About to Sleep", lambda r, fm: r == 3 and fm == 1),
    ("Can't Lose", lambda r, fm: r <= 2 and fm == 5),
    ("At Risk", lambda r, fm: r <= 2 and fm >= 3),
    ("Hibernating", lambda r, fm: r == 2),
    ("Lost", lambda r, fm: r == 1),
]


def _quintile(value: Any, values: list[Any]) -> int:
    """ceil(5 x cume_dist): the share of the shop's buyers at or below this value (ties share a score)."""
    return math.ceil(5 * (sum(1 for v in values if v <= value) / len(values)))


def _frequency_score(orders: int) -> int:
    return 5 if orders >= 6 else 4 if orders >= 4 else orders


def segments(customers: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """`analytics.customer_segments` from the customers of one shop and day."""
    lasts = [c["last_order_at"] for c in customers.values()]
    spends = [c["total_spent"] for c in customers.values()]
    out: dict[int, dict[str, Any]] = {}
    for buyer, c in customers.items():
        r, f, m = (
            _quintile(c["last_order_at"], lasts),
            _frequency_score(c["order_count"]),
            _quintile(c["total_spent"], spends),
        )
        fm = (f + m + 1) // 2  # round((f + m) / 2), halves up
        segment = next((name for name, rule in SEGMENTS if rule(r, fm)), None)
        out[buyer] = {
            "recency_days": c["days_since_last_order"],
            "frequency": c["order_count"],
            "monetary": c["total_spent"],
            "r_score": r,
            "f_score": f,
            "m_score": m,
            "segment": segment,
        }
    return out


def inventory_alerts(state: EmulatorState, etsy_shop_id: int, threshold: int) -> set[tuple[Any, ...]]:
    """(Etsy listing id, SKU, quantity, threshold, kind) of every enabled offering of an active or sold-out
    listing whose quantity is at or below the threshold."""
    out: set[tuple[Any, ...]] = set()
    for listing in state.world.listings.values():
        if listing.shop_id != etsy_shop_id or listing.state not in ("active", "sold_out"):
            continue
        for product in listing.inventory.products:
            quantity = product.offering.quantity
            if product.offering.is_enabled and quantity <= threshold:
                kind = "sold_out" if quantity == 0 else "low_stock"
                out.add((listing.listing_id, product.sku or None, quantity, threshold, kind))
    return out
