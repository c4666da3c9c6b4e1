"""Pushing a receipt's changes: shipments (createReceiptShipment) and status (updateShopReceipt).

createReceiptShipment adds a shipment and e-mails the buyer on every call, so it is guarded: the client never
repeats it, and it is sent again only when Etsy shows no shipment with the change's tracking code. A change
taken for the first time is sent straight away; a change taken again (an earlier run may have sent it and died,
or its outcome was unknown) reads the receipt first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from etsy_pipeline.etsy.client import WriteOutcomeUnknown
from etsy_pipeline.etsy.errors import EtsyClientError
from etsy_pipeline.etsy.writes import receipt_form, shipment_body
from etsy_pipeline.push import writeback
from etsy_pipeline.push.claims import Claimed, Outcome
from etsy_pipeline.push.context import SENDS_PER_RUN, Decided, OutcomeStillUnknown, ShopContext

Json = dict[str, Any]
READ_NAMES = {"was_shipped": "is_shipped", "was_paid": "is_paid"}


def has_tracking(receipt: Json, tracking_code: str) -> bool:
    wanted = tracking_code.strip().lower()
    return any(str(s.get("tracking_code") or "").strip().lower() == wanted for s in receipt.get("shipments") or [])


def push_shipment(ctx: ShopContext, change: Claimed) -> tuple[Outcome, Json | None]:
    p = change.payload
    path = f"/shops/{ctx.etsy_shop_id}/receipts/{p['receipt_id']}"
    receipt: Json | None = None
    if change.attempts > 1:
        receipt = ctx.client.get(path, tokens=ctx.tokens)
        if has_tracking(receipt, p["tracking_code"]):
            return Outcome("confirmed"), receipt
    body = shipment_body(p["carrier_name"], p["tracking_code"], p.get("note_to_buyer"))
    for _ in range(SENDS_PER_RUN):
        try:
            return Outcome("confirmed"), ctx.client.write("POST", path + "/tracking", tokens=ctx.tokens, json=body)
        except WriteOutcomeUnknown:
            receipt = ctx.client.get(path, tokens=ctx.tokens)  # read back at once: did Etsy add it?
            if has_tracking(receipt, p["tracking_code"]):
                return Outcome("confirmed"), receipt
        except EtsyClientError as exc:
            if receipt is None:  # core goes back to Etsy's receipt (the order was marked shipped locally)
                try:
                    receipt = ctx.client.get(path, tokens=ctx.tokens)
                except EtsyClientError:
                    receipt = None
            return Outcome("failed", exc.etsy_message, {"status": exc.status}), receipt
    raise OutcomeStillUnknown(f"createReceiptShipment of receipt {p['receipt_id']}: no answer, no shipment on Etsy")


def push_status(ctx: ShopContext, receipt_id: int, changes: list[Claimed]) -> tuple[dict[int, Outcome], Json]:
    """Every status change of the receipt in one updateShopReceipt (only the fields Etsy does not show yet)."""
    path = f"/shops/{ctx.etsy_shop_id}/receipts/{receipt_id}"
    receipt = ctx.client.get(path, tokens=ctx.tokens)
    for _ in range(SENDS_PER_RUN):
        desired: Json = {}
        outcomes: dict[int, Outcome] = {}
        for change in changes:
            conflicts = {}
            for name, value in change.payload["fields"].items():
                now = receipt[READ_NAMES[name]]
                if now != value and name in change.base_values and now != change.base_values[name]:
                    conflicts[name] = now
                else:
                    desired[name] = value
            if conflicts:
                outcomes[change.id] = Outcome("conflict", "Etsy changed " + ", ".join(conflicts), conflicts)
        to_write = {k: v for k, v in desired.items() if receipt[READ_NAMES[k]] != v}
        if to_write:
            try:
                receipt = ctx.client.write("PUT", path, tokens=ctx.tokens, data=receipt_form(to_write))
            except WriteOutcomeUnknown:
                receipt = ctx.client.get(path, tokens=ctx.tokens)
                if any(receipt[READ_NAMES[k]] != v for k, v in to_write.items()):
                    continue
            except EtsyClientError as exc:
                failed = Outcome("failed", exc.etsy_message, {READ_NAMES[k]: receipt[READ_NAMES[k]] for k in to_write})
                return {c.id: outcomes.get(c.id, failed) for c in changes}, receipt
        return {c.id: outcomes.get(c.id, Outcome("confirmed")) for c in changes}, receipt
    raise OutcomeStillUnknown(f"updateShopReceipt of receipt {receipt_id}: no answer after {SENDS_PER_RUN} sends")


def push_receipt(ctx: ShopContext, receipt_id: int, changes: list[Claimed]) -> Decided:
    """Shipments first (each marks the receipt shipped), then the status changes together."""
    decided = Decided()
    latest: Json | None = None
    for change in (c for c in changes if c.change_type == "shipment"):
        outcome, answer = push_shipment(ctx, change)
        decided.outcomes[change.id] = outcome
        latest = answer or latest
    status = [c for c in changes if c.change_type == "order_status"]
    if status:
        outcomes, latest = push_status(ctx, receipt_id, status)
        decided.outcomes |= outcomes
    if latest is not None:
        final = latest
        ids = [c.id for c in changes]

        def update_core(session: Session) -> None:
            writeback.receipt(session, receipt_id, final, ids)

        decided.core_update = update_core
    return decided
