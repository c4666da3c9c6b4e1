"""Reading a stocktake file (CSV `listing_id,sku,quantity`) into offering edits, every bad line reported.

Line numbers are the file's own (the header is line 1). An empty SKU names the only offering of a listing
without variations.
"""

from __future__ import annotations

import csv
from pathlib import Path

from etsy_pipeline.storage.repositories.base import InvalidArgumentError
from etsy_pipeline.storage.repositories.offering_edits import MAX_QUANTITY, OfferingEdit

HEADER = ["listing_id", "sku", "quantity"]


def _integer(raw: str) -> int | None:
    text = raw.strip()
    return int(text) if text.isdigit() else None


def read_stocktake(path: Path) -> tuple[list[OfferingEdit], list[str]]:
    """The edits of the file and the problems of its bad lines (the caller applies nothing if there are any)."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot be read ({exc.strerror})") from None
    edits: list[OfferingEdit] = []
    problems: list[str] = []
    with handle:
        rows = csv.reader(handle)
        header = [h.strip().lower() for h in next(rows, [])]
        if header != HEADER:
            raise InvalidArgumentError(
                f"{path} line 1: the header must be {','.join(HEADER)}, got {','.join(header)!r}"
            )
        for number, row in enumerate(rows, start=2):
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != 3:
                problems.append(f"line {number}: expected 3 fields (listing_id,sku,quantity), got {len(row)}")
                continue
            listing_raw, sku, quantity_raw = row
            listing_id = _integer(listing_raw)
            quantity = _integer(quantity_raw)
            if listing_id is None or listing_id < 1:
                problems.append(f"line {number}: listing_id {listing_raw!r} is not an Etsy listing id")
                continue
            if quantity is None or quantity > MAX_QUANTITY:
                problems.append(f"line {number}: quantity {quantity_raw!r} is not an integer from 0 to {MAX_QUANTITY}")
                continue
            sku = sku.strip()
            edits.append(
                OfferingEdit(
                    listing_id, sku=sku or None, variation_key=None if sku else "", quantity=quantity, line=number
                )
            )
    if not edits and not problems:
        problems.append(f"{path}: no rows after the header")
    return edits, problems
