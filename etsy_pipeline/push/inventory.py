"""Pushing one listing's inventory changes: one getListingInventory, one updateListingInventory.

Every due change of the listing is folded into a single full-replace write built from what Etsy holds now.
Each field a change sets is compared with the change's base value: if Etsy moved, that field is a conflict and
keeps Etsy's value; a delta (stock received, stock counted out) is applied to Etsy's current stock instead and
never conflicts. When the write's outcome is unknown the inventory is read back at once: the changes are
confirmed if Etsy shows them, and only otherwise planned and sent again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from etsy_pipeline.etsy.client import WriteOutcomeUnknown
from etsy_pipeline.etsy.errors import EtsyClientError
from etsy_pipeline.etsy.writes import inventory_body, money_value, offering_of, variation_key
from etsy_pipeline.push import writeback
from etsy_pipeline.push.claims import Claimed, Outcome
from etsy_pipeline.push.context import SENDS_PER_RUN, Decided, OutcomeStillUnknown, ShopContext

Json = dict[str, Any]
MAX_QUANTITY = 999


@dataclass
class InventoryPlan:
    desired: dict[str, dict[str, Any]] = field(default_factory=dict)  # variation key -> field -> value
    outcomes: dict[int, Outcome] = field(default_factory=dict)  # changes decided without a write
    writers: list[int] = field(default_factory=list)  # changes confirmed once the write lands

    def body(self, etsy: Json) -> Json | None:
        """The full-replace body, or None when Etsy already shows every desired value."""
        if self.shown_by(etsy):
            return None
        body = inventory_body(etsy)
        live = [p for p in etsy["products"] if not p.get("is_deleted")]
        for product, sent in zip(live, body["products"], strict=True):
            wanted = self.desired.get(variation_key(product), {})
            if "quantity" in wanted:
                sent["offerings"][0]["quantity"] = wanted["quantity"]
            if "price" in wanted:
                sent["offerings"][0]["price"] = float(wanted["price"])
        return body

    def shown_by(self, etsy: Json) -> bool:
        current = _current(etsy)
        for key, wanted in self.desired.items():
            now = current.get(key)
            if now is None or any(now[name] != value for name, value in wanted.items()):
                return False
        return True


def _current(etsy: Json) -> dict[str, dict[str, Any]]:
    out = {}
    for product in etsy["products"]:
        if product.get("is_deleted"):
            continue
        offer = offering_of(product)
        out[variation_key(product)] = {
            "quantity": int(offer["quantity"]),
            "price": money_value(offer["price"]),
            "sku": product.get("sku") or None,
        }
    return out


def plan(etsy: Json, changes: list[Claimed]) -> InventoryPlan:
    """Decide each change against Etsy's inventory as it is now (changes in the order they were made)."""
    current = _current(etsy)
    by_sku = {v["sku"]: k for k, v in current.items() if v["sku"]}
    result = InventoryPlan()
    for change in changes:
        p = change.payload
        key = p.get("variation_key")
        if key not in current:
            key = by_sku.get(p.get("sku"))
        if key is None:
            result.outcomes[change.id] = Outcome("failed", "the offering is no longer on Etsy", {})
            continue
        now = current[key]
        wanted = result.desired.setdefault(key, {})
        conflicts: dict[str, Any] = {}
        if "quantity" in p:
            if now["quantity"] != change.base_values.get("quantity", now["quantity"]):
                conflicts["quantity"] = now["quantity"]
            else:
                wanted["quantity"] = int(p["quantity"])
        if "quantity_delta" in p:
            target = wanted.get("quantity", now["quantity"]) + int(p["quantity_delta"])
            if not 0 <= target <= MAX_QUANTITY:
                result.outcomes[change.id] = Outcome(
                    "failed", f"stock on Etsy is {now['quantity']}; the delta would make it {target}", _json(now)
                )
                continue
            wanted["quantity"] = target
        if "price" in p:
            base = change.base_values.get("price")
            if base is not None and now["price"] != Decimal(str(base)):
                conflicts["price"] = str(now["price"])
            else:
                wanted["price"] = Decimal(str(p["price"]))
        if conflicts:
            result.outcomes[change.id] = Outcome("conflict", "Etsy changed " + ", ".join(conflicts), conflicts)
        else:
            result.writers.append(change.id)
    return result


def _json(now: dict[str, Any]) -> Json:
    return {"quantity": now["quantity"], "price": str(now["price"])}


def push_inventory(ctx: ShopContext, etsy_listing_id: int, changes: list[Claimed]) -> Decided:
    path = f"/listings/{etsy_listing_id}/inventory"
    etsy = ctx.client.get(path, tokens=ctx.tokens)
    for _ in range(SENDS_PER_RUN):
        decided = plan(etsy, changes)
        body = decided.body(etsy)
        if body is not None:
            try:
                etsy = ctx.client.write("PUT", path, tokens=ctx.tokens, json=body)
            except WriteOutcomeUnknown:
                etsy = ctx.client.get(path, tokens=ctx.tokens)  # read back at once, not after a backoff
                if not decided.shown_by(etsy):
                    continue
            except EtsyClientError as exc:
                refused = Outcome("failed", exc.etsy_message, {"status": exc.status})
                return _finish(etsy_listing_id, etsy, changes, Decided(dict(decided.outcomes)).all(changes, refused))
        confirmed = Decided(dict(decided.outcomes)).all(changes, Outcome("confirmed"))
        return _finish(etsy_listing_id, etsy, changes, confirmed)
    raise OutcomeStillUnknown(
        f"updateListingInventory of listing {etsy_listing_id}: no answer after {SENDS_PER_RUN} sends"
    )


def _finish(etsy_listing_id: int, etsy: Json, changes: list[Claimed], decided: Decided) -> Decided:
    ids = [c.id for c in changes]

    def update_core(session: Session) -> None:
        writeback.inventory(session, etsy_listing_id, etsy, ids)

    decided.core_update = update_core
    return decided
