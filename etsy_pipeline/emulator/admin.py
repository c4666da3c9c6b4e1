"""The admin API under /_emulator/: what tests, benchmarks and the demo use to drive and inspect the emulator.

- GET  credentials  the app's keystring and shared secret, and per seller an e-mail, ids and refresh token
- POST reset        back to the seed's data
- POST advance      {"hours": N}: move the simulated clock, generating orders, shipments, edits, reviews
- GET/POST faults   fault rates (see faults.FaultConfig), write_applied_error_rate included; quota_ends_at
                    (an operationId) finds the day's quota spent when that operation is called
- GET/POST quirks   Etsy's quirks, each switchable (see state.Quirks)
- POST refund       {"receipt_id": N, "amount": minor units (default: all)}: refund as a seller would on
                    Etsy: a ShopRefund, a PaymentAdjustment and a REFUND_GROSS ledger entry (payments.py);
                    like Etsy, it leaves updated_timestamp alone unless the quirk is switched off
- POST revoke       {"user_id": N}: revoke a user's tokens, as a password change on Etsy does
- POST seller/inventory  {"listing_id", "sku", "quantity"}: the seller sets one product's stock on Etsy
- POST seller/listing    {"listing_id", "title"?, "description"?, "tags"?, "state"?}: the seller edits the
                    listing on Etsy; both bump updated_timestamp like a real edit (see seller.py)
- GET  stats        calls per operationId, 429s, faults, shipments and buyer e-mails per receipt, writes per
                    listing (inventory_writes, listing_writes) and per receipt (receipt_writes)
- GET  clock        the simulated time
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import fields
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from etsy_pipeline.emulator import seller
from etsy_pipeline.emulator.activity import advance, refund
from etsy_pipeline.emulator.errors import BadRequest, EtsyError
from etsy_pipeline.emulator.faults import parse_config
from etsy_pipeline.emulator.state import EmulatorState, Quirks

Handler = Callable[[EmulatorState, Any], Any]
MAX_ADVANCE_HOURS = 24 * 90


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _payload(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return {}
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("admin requests take a JSON object body") from None
    if not isinstance(payload, dict):
        raise BadRequest("admin requests take a JSON object body")
    return payload


def _wrap(state: EmulatorState, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            payload = await _payload(request) if request.method == "POST" else {}
            with state.lock:
                return _json(handler(state, payload))
        except EtsyError as exc:
            return _json(exc.body(), exc.status)

    return endpoint


def _credentials(state: EmulatorState, _: Any) -> Any:
    return state.credentials()


def _reset(state: EmulatorState, _: Any) -> Any:
    state.reset()
    return {"reset": True, "clock": state.clock.now()}


def _advance(state: EmulatorState, payload: Any) -> Any:
    hours = payload.get("hours")
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= MAX_ADVANCE_HOURS:
        raise BadRequest(f"hours must be a number above 0 and at most {MAX_ADVANCE_HOURS}, got {hours!r}")
    return advance(state, hours)


def _faults(state: EmulatorState, payload: Any) -> Any:
    if payload:
        state.faults.configure(parse_config(payload, state.faults.config))
    return state.faults.config.to_dict()


def _quirks(state: EmulatorState, payload: Any) -> Any:
    if payload:
        known = {f.name for f in fields(Quirks)}
        unknown = sorted(set(payload) - known)
        if unknown:
            raise BadRequest(f"unknown quirk(s) {unknown}; known: {sorted(known)}")
        values = state.quirks.to_dict() | payload
        state.quirks = Quirks(**values)
        state.changed()
    return state.quirks.to_dict()


def _refund(state: EmulatorState, payload: Any) -> Any:
    receipt = state.world.receipts.get(payload.get("receipt_id"))
    if receipt is None:
        raise BadRequest(f"receipt_id must be an existing receipt's id, got {payload.get('receipt_id')!r}")
    if receipt.is_canceled:
        raise BadRequest(f"receipt {receipt.receipt_id} is canceled: its payment was already given back")
    left = receipt.grandtotal - receipt.adjusted
    amount = payload.get("amount", left)
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= left:
        raise BadRequest(f"amount must be an integer from 1 to {left} (minor units), got {amount!r}")
    refund(state, receipt, amount, state.clock.now())
    return {"receipt_id": receipt.receipt_id, "status": receipt.status, "updated_timestamp": receipt.updated}


def _revoke(state: EmulatorState, payload: Any) -> Any:
    user_id = payload.get("user_id")
    if not isinstance(user_id, int) or user_id not in state.world.users:
        raise BadRequest(f"user_id must be a seeded user's id, got {user_id!r}")
    return {"revoked_tokens": state.auth.revoke(user_id)}


def _stats(state: EmulatorState, _: Any) -> Any:
    return state.stats.to_dict()


def _clock(state: EmulatorState, _: Any) -> Any:
    return {"now": state.clock.now(), "advances": state.advances}


def routes(state: EmulatorState) -> list[Route]:
    table: list[tuple[str, Handler, list[str]]] = [
        ("credentials", _credentials, ["GET"]),
        ("reset", _reset, ["POST"]),
        ("advance", _advance, ["POST"]),
        ("faults", _faults, ["GET", "POST"]),
        ("quirks", _quirks, ["GET", "POST"]),
        ("refund", _refund, ["POST"]),
        ("revoke", _revoke, ["POST"]),
        ("seller/inventory", seller.edit_inventory, ["POST"]),
        ("seller/listing", seller.edit_listing, ["POST"]),
        ("stats", _stats, ["GET"]),
        ("clock", _clock, ["GET"]),
    ]
    return [Route(f"/_emulator/{name}", _wrap(state, handler), methods=methods) for name, handler, methods in table]
