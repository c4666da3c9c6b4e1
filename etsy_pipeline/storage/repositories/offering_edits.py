"""Local stock and price edits of offerings, planned and applied in bulk (a stocktake is 10,000 rows).

An offering is named as the seller knows it: Etsy's listing id plus the SKU, or plus the variation key (sorted
`property_id:value_id` pairs) when it has no SKU. A quantity is set or adjusted by a delta; a delta is pushed as
a delta (applied to Etsy's current stock), so a sale on Etsy in the meantime is not a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from etsy_pipeline.storage.models import Inventory, Listing, Shop
from etsy_pipeline.storage.models.ops import PRIORITY_CRITICAL
from etsy_pipeline.storage.repositories.base import InvalidArgumentError, to_view
from etsy_pipeline.storage.repositories.changes import inherited_base, new_change, open_changes
from etsy_pipeline.storage.repositories.views import PendingChangeView

MAX_QUANTITY = 999  # Etsy's per-offering ceiling


def check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
        raise InvalidArgumentError(f"quantity must be an integer from 0 to {MAX_QUANTITY}, got {quantity!r}")
    return quantity


def parse_price(raw: str) -> Decimal:
    try:
        price = Decimal(raw)
    except InvalidOperation:
        raise InvalidArgumentError(f"price must be a decimal number such as 12.50, got {raw!r}") from None
    if not price.is_finite() or price <= 0 or price.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidArgumentError(f"price must be above 0 with at most 2 decimals, got {raw!r}")
    return price


@dataclass(frozen=True)
class OfferingEdit:
    etsy_listing_id: int
    sku: str | None = None
    variation_key: str | None = None
    quantity: int | None = None
    delta: int | None = None
    price: Decimal | None = None
    line: int | None = None  # the stocktake line, for error messages

    def where(self) -> str:
        return f"line {self.line}: " if self.line is not None else ""

    def problems(self) -> list[str]:
        out = []
        if self.quantity is not None and self.delta is not None:
            out.append(f"{self.where()}quantity and a delta cannot both be given")
        if self.quantity is None and self.delta is None and self.price is None:
            out.append(f"{self.where()}nothing to change: give a quantity, a delta or a price")
        if self.quantity is not None:
            try:
                check_quantity(self.quantity)
            except InvalidArgumentError as exc:
                out.append(f"{self.where()}{exc}")
        return out

    def describe(self) -> str:
        named = f"sku {self.sku!r}" if self.sku is not None else f"variation {self.variation_key!r}"
        return f"listing {self.etsy_listing_id} {named}"


@dataclass
class Planned:
    edit: OfferingEdit
    item: Inventory
    listing: Listing
    quantity: int
    base: dict[str, Any] = field(default_factory=dict)
    stamp: int | None = None


def _load(session: Session, user_id: int, listing_ids: list[int]) -> list[tuple[Inventory, Listing]]:
    rows = session.execute(
        select(Inventory, Listing)
        .join(Listing, Listing.id == Inventory.listing_id)
        .join(Shop, Shop.id == Inventory.shop_id)
        .where(Listing.etsy_listing_id.in_(listing_ids), Shop.user_id == user_id, Inventory.is_deleted.is_(False))
        .order_by(Inventory.id)
        .with_for_update(of=Inventory)
    )
    return [(r[0], r[1]) for r in rows]


def plan_offering_edits(
    session: Session, user_id: int, edits: list[OfferingEdit] | Any, problems: list[str]
) -> list[Planned]:
    """Find each edit's offering and its new values; append every problem (unknown offering, stock out of range)."""
    rows = _load(session, user_id, sorted({e.etsy_listing_id for e in edits}))
    by_sku: dict[tuple[int, str], list[tuple[Inventory, Listing]]] = {}
    by_key: dict[tuple[int, str], tuple[Inventory, Listing]] = {}
    listings_seen = set()
    for item, listing in rows:
        listings_seen.add(listing.etsy_listing_id)
        by_key[(listing.etsy_listing_id, item.variation_key)] = (item, listing)
        if item.sku:
            by_sku.setdefault((listing.etsy_listing_id, item.sku), []).append((item, listing))
    waiting = open_changes(session, "inventory", listings_seen)
    current: dict[int, int] = {}
    chained: dict[int, tuple[dict[str, Any], int | None]] = {}
    planned = []
    for edit in edits:
        if edit.etsy_listing_id not in listings_seen:
            problems.append(f"{edit.where()}listing {edit.etsy_listing_id} not found")
            continue
        if edit.sku:
            matches = by_sku.get((edit.etsy_listing_id, edit.sku), [])
            if len(matches) != 1:
                what = "no offering" if not matches else "several offerings"
                problems.append(f"{edit.where()}{edit.describe()}: {what} with this SKU")
                continue
            item, listing = matches[0]
        else:
            found = by_key.get((edit.etsy_listing_id, edit.variation_key or ""))
            if found is None:
                problems.append(f"{edit.where()}{edit.describe()}: no such offering")
                continue
            item, listing = found
        quantity = current.get(item.id, item.quantity)
        new_quantity = edit.quantity if edit.quantity is not None else quantity + (edit.delta or 0)
        if not 0 <= new_quantity <= MAX_QUANTITY:
            problems.append(
                f"{edit.where()}{edit.describe()}: stock would be {new_quantity}, outside 0..{MAX_QUANTITY}"
            )
            continue
        if item.id not in chained:
            mine = [c for c in waiting if c.payload.get("variation_key") == item.variation_key
                    and c.entity_id == listing.etsy_listing_id]  # fmt: skip
            base, stamp = inherited_base(mine, ("quantity", "price"))
            base.setdefault("quantity", item.quantity)
            base.setdefault("price", None if item.price is None else str(item.price))
            chained[item.id] = (base, stamp if stamp is not None else listing.etsy_updated_timestamp)
        base, stamp = chained[item.id]
        current[item.id] = new_quantity
        planned.append(Planned(edit, item, listing, new_quantity, dict(base), stamp))
    return planned


def apply_offering_edits(session: Session, user_id: int, planned: list[Planned]) -> list[PendingChangeView]:
    changes = []
    for p in planned:
        edit, item = p.edit, p.item
        previous = item.quantity
        item.quantity = p.quantity
        payload: dict[str, Any] = {
            "listing_id": p.listing.etsy_listing_id,
            "variation_key": item.variation_key,
            "sku": item.sku,
            "previous_quantity": previous,
        }
        if edit.quantity is not None:
            payload["quantity"] = edit.quantity
        if edit.delta is not None:
            payload["quantity_delta"] = edit.delta
        if edit.price is not None:
            payload["price"] = str(edit.price)
            item.price = edit.price
        touched = {k for k in ("quantity", "price") if k in payload}
        if edit.delta is not None:
            touched.add("quantity")
        changes.append(
            new_change(
                shop_id=item.shop_id,
                user_id=user_id,
                entity_type="inventory",
                entity_id=p.listing.etsy_listing_id,
                change_type="inventory_update" if edit.price is not None else "inventory_quantity",
                payload=payload,
                base_values={k: v for k, v in p.base.items() if k in touched},
                base_updated_timestamp=p.stamp,
                priority=PRIORITY_CRITICAL,
            )
        )
    session.add_all(changes)
    session.flush()
    refresh_listing_quantities(session, {p.listing.id for p in planned})
    return [to_view(PendingChangeView, c) for c in changes]


def refresh_listing_quantities(session: Session, listing_ids: set[int]) -> None:
    """A listing's quantity is the sum of its enabled offerings, as Etsy reports it."""
    if not listing_ids:
        return
    total = (
        select(func.coalesce(func.sum(Inventory.quantity), 0))
        .where(Inventory.listing_id == Listing.id, Inventory.is_enabled.is_(True), Inventory.is_deleted.is_(False))
        .scalar_subquery()
    )
    session.execute(
        update(Listing).where(Listing.id.in_(listing_ids)).values(quantity=total),
        execution_options={"synchronize_session": False},
    )
