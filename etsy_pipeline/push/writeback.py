"""Etsy's answer written into core when a push ends: confirmed (new product and offering ids, Etsy's
`updated_timestamp`), conflict or refused (core takes Etsy's value back).

A field that has another change still waiting keeps its local value: that change has not reached Etsy yet,
and overwriting it would show the user a value they did not set.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from etsy_pipeline.etsy.writes import LISTING_FIELDS, etsy_listing_value, money_value, variation_key
from etsy_pipeline.storage.models import Inventory, Listing, Order
from etsy_pipeline.storage.repositories.changes import open_changes
from etsy_pipeline.storage.repositories.offering_edits import refresh_listing_quantities

Json = dict[str, Any]
NO_SYNC = {"synchronize_session": False}


def _others(session: Session, entity_type: str, entity_id: int, finishing: Iterable[int]) -> list[Any]:
    done = set(finishing)
    return [c for c in open_changes(session, entity_type, [entity_id]) if c.id not in done]


def inventory(session: Session, etsy_listing_id: int, etsy: Json, finishing: Iterable[int]) -> None:
    listing_id = session.scalar(select(Listing.id).where(Listing.etsy_listing_id == etsy_listing_id))
    if listing_id is None:
        return
    waiting = {c.payload.get("variation_key") for c in _others(session, "inventory", etsy_listing_id, finishing)}
    for product in etsy["products"]:
        key = variation_key(product)
        if key in waiting:
            continue
        offering = product["offerings"][0]
        session.execute(
            update(Inventory)
            .where(Inventory.listing_id == listing_id, Inventory.variation_key == key)
            .values(
                etsy_product_id=product.get("product_id"),
                etsy_offering_id=offering.get("offering_id"),
                sku=product.get("sku") or None,
                price=money_value(offering["price"]),
                quantity=int(offering["quantity"]),
                is_enabled=bool(offering.get("is_enabled", True)),
            ),
            execution_options=NO_SYNC,
        )
    refresh_listing_quantities(session, {listing_id})


def listing(session: Session, etsy_listing_id: int, etsy: Json, finishing: Iterable[int]) -> None:
    waiting: set[str] = set()
    for change in _others(session, "listing", etsy_listing_id, finishing):
        waiting.update(change.payload.get("fields", {}))
    values: dict[str, Any] = {}
    for name, spec in LISTING_FIELDS.items():
        if spec.core_column is not None and name not in waiting:
            value = etsy_listing_value(etsy, name)
            if name in ("tags", "materials"):
                value = list(value or [])
            values[spec.core_column] = value
    if etsy.get("updated_timestamp") is not None:
        values["etsy_updated_timestamp"] = int(etsy["updated_timestamp"])
        values["etsy_updated_at"] = datetime.fromtimestamp(int(etsy["updated_timestamp"]), UTC)
    if values.get("title") is None:
        values.pop("title", None)  # core requires a title; Etsy always sends one
    session.execute(
        update(Listing).where(Listing.etsy_listing_id == etsy_listing_id).values(**values), execution_options=NO_SYNC
    )


def receipt(session: Session, etsy_receipt_id: int, etsy: Json, finishing: Iterable[int]) -> None:
    waiting = _others(session, "receipt", etsy_receipt_id, finishing)
    values: dict[str, Any] = {"status": etsy["status"]}
    if not waiting:
        values |= {"is_shipped": bool(etsy["is_shipped"]), "is_paid": bool(etsy["is_paid"])}
    if etsy.get("updated_timestamp") is not None:
        values["etsy_updated_timestamp"] = int(etsy["updated_timestamp"])
        values["etsy_updated_at"] = datetime.fromtimestamp(int(etsy["updated_timestamp"]), UTC)
    session.execute(
        update(Order).where(Order.etsy_receipt_id == etsy_receipt_id).values(**values), execution_options=NO_SYNC
    )
