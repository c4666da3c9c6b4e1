"""The shop, its sections, its listings (every state, with images and inventory) and its reviews.

Listings (with their images and inventory) and reviews skip dlt's item normalizer like receipts do
(`fastpath.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import dlt
from dlt.common.schema.typing import TColumnSchema
from dlt.sources import DltResource

from etsy_pipeline.sources.etsy import validation
from etsy_pipeline.sources.etsy.context import STOPS, Pull
from etsy_pipeline.sources.etsy.fastpath import FastPath, route, with_quarantine
from etsy_pipeline.sources.etsy.helpers import windowed
from etsy_pipeline.sources.etsy.settings import LISTING_INCLUDES, NEWEST_FIRST_WINDOW

JSON_LISTS = ("tags", "materials", "style", "skus", "production_partners")
SOURCE_NESTING = 2  # the source's max_table_nesting


def shops_resource(pull: Pull) -> DltResource:
    @dlt.resource(
        name="shops", primary_key="shop_id", write_disposition="merge", columns={"languages": {"data_type": "json"}},
        max_table_nesting=0,
    )  # fmt: skip
    def shops() -> Iterator[Any]:
        try:
            shop = pull.get(f"/shops/{pull.shop_id}")
        except STOPS as exc:
            pull.stop(exc)
            return
        yield from pull.checked("shops", validation.SHOP, "shop_id", [shop])

    return shops


def sections_resource(pull: Pull) -> DltResource:
    @dlt.resource(name="shop_sections", primary_key="shop_section_id", write_disposition="merge")
    def shop_sections() -> Iterator[Any]:
        if pull.report.stopped:
            return
        try:
            page = pull.get(f"/shops/{pull.shop_id}/sections")
        except STOPS as exc:
            pull.stop(exc)
            return
        rows = pull.with_shop(page["results"])
        yield from pull.checked("shop_sections", validation.SECTION, "shop_section_id", rows, whole=True)

    return shop_sections


def listings_resource(pull: Pull, states: Sequence[str]) -> DltResource:
    """A full scan per state (Etsy has no modified-since filter for listings); duplicates across pages dropped.

    A state's scan ends at a short page or once its distinct listings reach Etsy's latest `count` for it, so a
    state whose listings fill their last page exactly costs no extra, empty page."""

    def _read() -> Iterator[Any]:
        report = pull.report
        seen = report.listing_ids  # every listing of every state so far (removals are what it lacks)
        total = 0
        for state in states:
            first = True
            here: set[int] = set()  # the distinct listings this state's pages have shown
            for count, records in pull.pages(f"/shops/{pull.shop_id}/listings", state=state, includes=LISTING_INCLUDES):
                if first:
                    total, first = total + count, False
                fresh = []
                for record in records:
                    ident = record.get("listing_id") if isinstance(record, dict) else None
                    if isinstance(ident, int):
                        here.add(ident)
                    if isinstance(ident, int) and ident in seen:
                        continue  # Etsy's pages can overlap
                    if isinstance(ident, int):
                        seen.add(ident)
                    fresh.append(record)
                yield from pull.checked("listings", validation.LISTING, "listing_id", fresh)
                # Every listing Etsy counts in the state is in hand: no page is left, even after a full one (an
                # overlap would have left fewer distinct listings than the count, and the paging goes on).
                if len(here) >= count:
                    break
        report.listing_scan_complete = not report.stopped
        if report.listing_scan_complete:
            report.etsy_counts["listings"] = total

    return fast_listings(_read)


def fast_listings(read: Callable[[], Iterator[Any]]) -> DltResource:
    """The `listings` resource over what `read` yields (checked pages, quarantined records), through the fast path
    with listings' hints: the scan uses it, and the tests that compare the fast path with dlt's own."""
    # A fresh dict per column: dlt writes the column name into the hint it is given.
    columns: dict[str, TColumnSchema] = {name: {"data_type": "json"} for name in JSON_LISTS}

    @dlt.resource(
        name="listings", table_name=route("listings"), primary_key="listing_id", write_disposition="merge",
        columns=columns,
    )  # fmt: skip
    def listings() -> Iterator[Any]:
        fast = FastPath("listings", "listing_id", SOURCE_NESTING, json_columns=frozenset(JSON_LISTS))
        yield from fast.stream(read())

    return with_quarantine(listings)


def reviews_resource(pull: Pull, now: float) -> DltResource:
    """Incremental on created time (the only filter Etsy offers); Etsy pages reviews newest first, so windows
    are kept small and the cursor moves window by window."""

    @dlt.resource(name="reviews", table_name=route("reviews"), primary_key="transaction_id", write_disposition="merge")
    def reviews() -> Iterator[Any]:
        yield from FastPath("reviews", "transaction_id", SOURCE_NESTING).stream(_read())

    def _read() -> Iterator[Any]:
        report = pull.report
        if report.stopped:
            return
        high = int(max(now + 2 * 86_400, report.receipts_high or 0))
        try:
            for name, span in pull.reads("reviews", high):  # the new reviews, then the second look
                cursor = pull.cursor(name, span)
                for window, records, done in windowed(
                    pull.client, pull.tokens, f"/shops/{pull.shop_id}/reviews", span,
                    low_param="min_created", high_param="max_created", max_count=NEWEST_FIRST_WINDOW,
                ):  # fmt: skip
                    yield from pull.checked("reviews", validation.REVIEW, "transaction_id", records)
                    pull.advance(name, cursor, window, records, done, "created_timestamp")
        except STOPS as exc:
            pull.stop(exc)

    return with_quarantine(reviews)
