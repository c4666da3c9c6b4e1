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

from sqlalchemy import func, update
from sqlalchemy.orm import Session

from etsy_pipeline.etsy.client import WriteOutcomeUnknown
from etsy_pipeline.etsy.errors import EtsyClientError
from etsy_pipeline.etsy.writes import inventory_body, money_value, offering_of, variation_key
from etsy_pipeline.push import writeback
from etsy_pipeline.push.claims import Claimed, Outcome
from etsy_pipeline.push.context import SENDS_PER_RUN, Decided, OutcomeStillUnknown, ShopContext
from etsy_pipeline.storage.models import PendingChange

Json = dict[str, Any]
MAX_QUANTITY = 999


@dataclass
class InventoryPlan:
    desired: dict[str, dict[str, Any]] = field(default_factory=dict)  # variation key -> field -> value
    outcomes: dict[int, Outcome] = field(default_factory=dict)  # changes decided without a write
    writers: list[int] = field(default_factory=list)  # changes confirmed once the write lands
    resolved: dict[int, tuple[int, int]] = field(default_factory=dict)  # delta change -> (target, Etsy's stock)

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


def _locate(change: Claimed, current: dict[str, dict[str, Any]], by_sku: dict[str, str]) -> str | None:
    key = change.payload.get("variation_key")
    return key if key in current else by_sku.get(change.payload.get("sku") or "")


def _set_value(payload: Json, name: str) -> Any:
    """What a change sets a field to: its own value, or the target a delta was resolved to before sending."""
    if name == "quantity":
        return payload.get("quantity", payload.get("quantity_target"))
    return payload.get(name)


def _typed(name: str, value: Any) -> Any:
    return int(value) if name == "quantity" else Decimal(str(value))


def plan(etsy: Json, changes: list[Claimed]) -> InventoryPlan:
    """Decide each change against Etsy's inventory as it is now (changes in the order they were made).

    A field already at the value the group ends with needs no write and is no conflict: Etsy shows it (a run
    that died after its write left exactly this).
    """
    current = _current(etsy)
    by_sku = {v["sku"]: k for k, v in current.items() if v["sku"]}
    final: dict[tuple[str, str], Any] = {}
    for change in changes:
        key = _locate(change, current, by_sku)
        for name in ("quantity", "price"):
            value = _set_value(change.payload, name)
            if key is not None and value is not None:
                final[(key, name)] = _typed(name, value)
    result = InventoryPlan()
    for change in changes:
        p = change.payload
        key = _locate(change, current, by_sku)
        if key is None:
            result.outcomes[change.id] = Outcome("failed", "the offering is no longer on Etsy", {})
            continue
        now = current[key]
        wanted = result.desired.setdefault(key, {})
        conflicts: dict[str, Any] = {}
        for name in ("quantity", "price"):
            value = _set_value(p, name)
            if value is None:
                continue
            value = int(value) if name == "quantity" else Decimal(str(value))
            base = change.base_values.get(name)
            shown = now[name] == final[(key, name)]
            if (
                not shown
                and base is not None
                and now[name] != (int(base) if name == "quantity" else Decimal(str(base)))
            ):
                conflicts[name] = now[name] if name == "quantity" else str(now[name])
            elif not shown:
                wanted[name] = value
        if "quantity_delta" in p and "quantity_target" not in p:
            target = wanted.get("quantity", now["quantity"]) + int(p["quantity_delta"])
            if not 0 <= target <= MAX_QUANTITY:
                result.outcomes[change.id] = Outcome(
                    "failed", f"stock on Etsy is {now['quantity']}; the delta would make it {target}", _json(now)
                )
                continue
            wanted["quantity"] = target
            result.resolved[change.id] = (target, now["quantity"])
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
            resolve_deltas(ctx, decided.resolved)
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


def resolve_deltas(ctx: ShopContext, resolved: dict[int, tuple[int, int]]) -> None:
    """Record the absolute stock each delta resolves to BEFORE the write: if this run dies after Etsy applied it,
    the next run sees that Etsy shows the target, instead of adding the delta a second time."""
    if not resolved:
        return
    with ctx.db.session() as session:
        for change_id, (target, etsy_now) in resolved.items():
            session.execute(
                update(PendingChange)
                .where(PendingChange.id == change_id, PendingChange.claimed_by == ctx.runner)
                .values(
                    payload=PendingChange.payload.op("||")(func.jsonb_build_object("quantity_target", target)),
                    base_values=PendingChange.base_values.op("||")(func.jsonb_build_object("quantity", etsy_now)),
                ),
                execution_options={"synchronize_session": False},
            )


def _finish(etsy_listing_id: int, etsy: Json, changes: list[Claimed], decided: Decided) -> Decided:
    ids = [c.id for c in changes]

    def update_core(session: Session) -> None:
        writeback.inventory(session, etsy_listing_id, etsy, ids)

    decided.core_update = update_core
    return decided
