"""Pushing one listing's edits: one getListing, one updateListing (PATCH) with every field still to write.

Field by field: a field whose Etsy value differs from the change's base was changed on Etsy since the user
saw it, so Etsy wins (nothing written for that field, the change is a `conflict` holding both values); fields
Etsy did not touch are written even when the listing's `updated_timestamp` moved because of other fields.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from etsy_pipeline.etsy.client import WriteOutcomeUnknown
from etsy_pipeline.etsy.errors import EtsyClientError
from etsy_pipeline.etsy.writes import etsy_listing_value, listing_form
from etsy_pipeline.push import writeback
from etsy_pipeline.push.claims import Claimed, Outcome
from etsy_pipeline.push.context import SENDS_PER_RUN, Decided, OutcomeStillUnknown, ShopContext

Json = dict[str, Any]


def same(field: str, etsy_value: Any, other: Any) -> bool:
    """Equality as Etsy means it: lists compare as lists, a missing section is None or 0."""
    if field == "shop_section_id":
        return (etsy_value or None) == (other or None)
    if isinstance(etsy_value, list) or isinstance(other, list):
        return list(etsy_value or []) == list(other or [])
    return bool(etsy_value == other)


def plan(etsy: Json, changes: list[Claimed]) -> tuple[Json, dict[int, Outcome]]:
    """The fields to write (latest change wins) and the changes that conflict on some field."""
    desired: Json = {}
    outcomes: dict[int, Outcome] = {}
    final: Json = {}
    for change in changes:
        final |= change.payload.get("fields", {})
    for change in changes:
        conflicts: Json = {}
        for name, value in change.payload.get("fields", {}).items():
            now = etsy_listing_value(etsy, name)
            if same(name, now, final[name]):
                continue  # Etsy already shows what the edits end with (a run that died after writing left this)
            if name in change.base_values and not same(name, now, change.base_values[name]):
                conflicts[name] = now
            else:
                desired[name] = value
        if conflicts:
            outcomes[change.id] = Outcome("conflict", "Etsy changed " + ", ".join(conflicts), conflicts)
    return desired, outcomes


def missing(etsy: Json, desired: Json) -> Json:
    return {k: v for k, v in desired.items() if not same(k, etsy_listing_value(etsy, k), v)}


def push_listing(ctx: ShopContext, etsy_listing_id: int, changes: list[Claimed]) -> Decided:
    read = f"/listings/{etsy_listing_id}"
    etsy = ctx.client.get(read, tokens=ctx.tokens)
    for _ in range(SENDS_PER_RUN):
        desired, outcomes = plan(etsy, changes)
        to_write = missing(etsy, desired)
        if to_write:
            path = f"/shops/{ctx.etsy_shop_id}/listings/{etsy_listing_id}"
            try:
                etsy = ctx.client.write("PATCH", path, tokens=ctx.tokens, data=listing_form(to_write))
            except WriteOutcomeUnknown:
                etsy = ctx.client.get(read, tokens=ctx.tokens)
                if missing(etsy, desired):
                    continue
            except EtsyClientError as exc:
                refused = Outcome("failed", exc.etsy_message, {k: etsy_listing_value(etsy, k) for k in to_write})
                return _finish(etsy_listing_id, etsy, changes, Decided(outcomes).all(changes, refused))
        return _finish(etsy_listing_id, etsy, changes, Decided(outcomes).all(changes, Outcome("confirmed")))
    raise OutcomeStillUnknown(f"updateListing of listing {etsy_listing_id}: no answer after {SENDS_PER_RUN} sends")


def _finish(etsy_listing_id: int, etsy: Json, changes: list[Claimed], decided: Decided) -> Decided:
    ids = [c.id for c in changes]

    def update_core(session: Session) -> None:
        writeback.listing(session, etsy_listing_id, etsy, ids)

    decided.core_update = update_core
    return decided
