"""The Etsy dlt source: one resource per entity of one shop, merged on primary keys into `etsy_raw`.

- `shops`, `shop_sections`: small, refreshed every run.
- `listings`: a full scan per state with `includes=Images,Inventory` (Etsy has no modified-since filter for
  listings); images and inventory products/offerings land as child tables; duplicates across pages dropped.
- `receipts`: buyer personal data replaced by ciphertext first (`pii.py`); incremental on `updated_timestamp`
  through `min_last_modified`, re-reading a look-back window for changes Etsy does not stamp (refunds, some
  cancellations); transactions, shipments and refunds as child tables; windows split so no offset passes
  12,000. The cursor advances window by window, so a run stopped by the daily quota resumes where it stopped.
- `payments`: per receipt loaded in this run (recent receipts only), from `getShopPaymentByReceiptId`.
- `reviews`: incremental on created time. `ledger_entries`: created-time windows.

A record that does not fit (`validation.py`) goes to the `quarantine` table with the error and the raw JSON;
the others load. The function signature is the configuration; nothing here imports Dagster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import dlt
import orjson
from dlt.common.schema.typing import TColumnSchema
from dlt.sources import DltResource

from etsy_pipeline.etsy.auth import TokenManager
from etsy_pipeline.etsy.client import EtsyClient
from etsy_pipeline.etsy.errors import NeedsReauthorization, QuotaExhausted
from etsy_pipeline.sources.etsy import validation
from etsy_pipeline.sources.etsy.helpers import RunReport, Window, windowed
from etsy_pipeline.sources.etsy.pii import Encrypt, protect_receipt
from etsy_pipeline.sources.etsy.settings import (
    DEFAULT_LOOKBACK_HOURS,
    DEFAULT_PAYMENTS_DAYS,
    EARLIEST,
    LEDGER_WINDOW_DAYS,
    LISTING_INCLUDES,
    LISTING_STATES,
    PAGE_LIMIT,
    QUARANTINE_TABLE,
)

QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name=QUARANTINE_TABLE,
    write_disposition="append",
    primary_key=[],
    columns={"raw": {"data_type": "text"}, "errors": {"data_type": "text"}, "record_key": {"data_type": "text"}},
)


def _quarantine(report: RunReport, entity: str, shop_id: int, key: Any, record: Any, errors: list[str]) -> Any:
    report.quarantined[entity] = report.quarantined.get(entity, 0) + 1
    row = {
        "entity": entity,
        "shop_id": shop_id,
        "record_key": None if key is None else str(key),
        "errors": "; ".join(errors)[:2000],
        "raw": orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode(),
        "quarantined_at": datetime.now(UTC).isoformat(),
    }
    return dlt.mark.with_hints(row, QUARANTINE_HINTS, create_table_variant=True)


def _checked(
    report: RunReport, entity: str, shop_id: int, spec: validation.Spec, key: str, records: list[Any]
) -> Iterator[Any]:
    """The page's good records as one batch; each bad one separately, to the quarantine table."""
    good = []
    for record in records:
        errors = validation.problems(record, spec)
        if errors:
            ident = record.get(key) if isinstance(record, dict) else None
            yield _quarantine(report, entity, shop_id, ident, record, errors)
        else:
            good.append(record)
    report.count(entity, len(good))
    if good:
        yield good


def _stop_on(report: RunReport, exc: Exception) -> None:
    report.stopped = "quota" if isinstance(exc, QuotaExhausted) else "reauthorize"


@dlt.source(name="etsy", max_table_nesting=2)
def etsy_source(
    client: EtsyClient,
    tokens: TokenManager,
    shop_id: int,
    report: RunReport,
    full: bool = False,
    lookback_hours: int = DEFAULT_LOOKBACK_HOURS,
    payments_days: int = DEFAULT_PAYMENTS_DAYS,
    listing_states: Sequence[str] = LISTING_STATES,
    encrypt: Encrypt | None = None,
) -> Sequence[DltResource]:
    """Every Etsy entity of one shop. `full` ignores the cursors and re-reads everything."""
    lookback = lookback_hours * 3600

    @dlt.resource(
        name="shops",
        primary_key="shop_id",
        write_disposition="merge",
        columns={"languages": {"data_type": "json"}},
        max_table_nesting=0,
    )
    def shops() -> Iterator[Any]:
        try:
            shop = client.get(f"/shops/{shop_id}", tokens=tokens)
        except (QuotaExhausted, NeedsReauthorization) as exc:
            _stop_on(report, exc)
            return
        yield from _checked(report, "shops", shop_id, validation.SHOP, "shop_id", [shop])

    @dlt.resource(name="shop_sections", primary_key="shop_section_id", write_disposition="merge")
    def shop_sections() -> Iterator[Any]:
        if report.stopped:
            return
        try:
            page = client.get(f"/shops/{shop_id}/sections", tokens=tokens)
        except (QuotaExhausted, NeedsReauthorization) as exc:
            _stop_on(report, exc)
            return
        rows = [r | {"shop_id": shop_id} if isinstance(r, dict) else r for r in page["results"]]
        yield from _checked(report, "shop_sections", shop_id, validation.SECTION, "shop_section_id", rows)

    json_lists = ("tags", "materials", "style", "skus", "production_partners")
    # A fresh dict per column: dlt writes the column name into the hint it is given.
    listing_columns: dict[str, TColumnSchema] = {name: {"data_type": "json"} for name in json_lists}

    def _pages(path: str, **params: Any) -> Iterator[list[Any]]:
        """The client's pages, stopping quietly (and saying why) on quota or revocation."""
        try:
            for _, records in client.pages(path, tokens=tokens, limit=PAGE_LIMIT, **params):
                if report.stopped:
                    return
                yield records
        except (QuotaExhausted, NeedsReauthorization) as exc:
            _stop_on(report, exc)

    @dlt.resource(name="listings", primary_key="listing_id", write_disposition="merge", columns=listing_columns)
    def listings() -> Iterator[Any]:
        seen: set[int] = set()
        for state in listing_states:
            for records in _pages(f"/shops/{shop_id}/listings", state=state, includes=LISTING_INCLUDES):
                fresh = []
                for record in records:
                    ident = record.get("listing_id") if isinstance(record, dict) else None
                    if isinstance(ident, int) and ident in seen:
                        continue  # Etsy's pages can overlap
                    if isinstance(ident, int):
                        seen.add(ident)
                    fresh.append(record)
                yield from _checked(report, "listings", shop_id, validation.LISTING, "listing_id", fresh)
        report.listing_scan_complete = not report.stopped

    previous_cursor: list[int | None] = [None]  # the receipts cursor before this run, for `payments`

    @dlt.resource(name="receipts", primary_key="receipt_id", write_disposition="merge", max_table_nesting=1)
    def receipts() -> Iterator[Any]:
        state = dlt.current.resource_state()
        cursor = None if full else state.get("cursor")
        previous_cursor[0] = None if cursor is None else int(cursor)
        low = EARLIEST if cursor is None else max(EARLIEST, int(cursor) - lookback)
        try:
            newest = client.get(
                f"/shops/{shop_id}/receipts", tokens=tokens, limit=1, sort_on="updated", sort_order="desc"
            )
            if not newest["results"]:
                return
            high = int(newest["results"][0]["updated_timestamp"])
            report.receipts_high = high
            for window, records, done in windowed(
                client,
                tokens,
                f"/shops/{shop_id}/receipts",
                Window(low, max(low, high)),
                low_param="min_last_modified",
                high_param="max_last_modified",
                sort_on="updated",
                sort_order="asc",
            ):
                rows = [
                    protect_receipt(r, encrypt) | {"shop_id": shop_id} if isinstance(r, dict) else r for r in records
                ]
                yield from _checked(report, "receipts", shop_id, validation.RECEIPT, "receipt_id", rows)
                if report.stopped:  # the page's payments did not all come: resume from before this page
                    return
                # Pages come oldest change first, so everything up to this page's newest change is in; records
                # sharing that second on the next page are re-read through the look-back window.
                stamps = [
                    r["updated_timestamp"]
                    for r in records
                    if isinstance(r, dict) and isinstance(r.get("updated_timestamp"), int)
                ]
                reached = window.high if done else max(stamps, default=window.low)
                state["cursor"] = max(int(state.get("cursor") or 0), reached)
                report.receipts_cursor = state["cursor"]
        except (QuotaExhausted, NeedsReauthorization) as exc:
            _stop_on(report, exc)

    def _needs_payment(receipt: dict[str, Any], recent: float) -> bool:
        """One call per receipt, so only for recent receipts whose money may have moved since the last run."""
        if receipt.get("status") == "canceled" or receipt["created_timestamp"] < recent:
            return False
        since = previous_cursor[0]
        if since is None:
            return True
        refunded = [f.get("created_timestamp", 0) for f in receipt.get("refunds") or [] if isinstance(f, dict)]
        return bool(receipt["updated_timestamp"] > since or any(isinstance(t, int) and t > since for t in refunded))

    @dlt.transformer(name="payments", primary_key="payment_id", write_disposition="merge", data_from=receipts)
    def payments(batch: Any) -> Iterator[Any]:
        recent = (report.receipts_high or time.time()) - payments_days * 86_400
        for receipt in batch if isinstance(batch, list) else []:
            if report.stopped:
                return
            if not _needs_payment(receipt, recent):
                continue
            try:
                page = client.get(f"/shops/{shop_id}/receipts/{receipt['receipt_id']}/payments", tokens=tokens)
            except (QuotaExhausted, NeedsReauthorization) as exc:
                _stop_on(report, exc)
                return
            yield from _checked(report, "payments", shop_id, validation.PAYMENT, "payment_id", page["results"])

    @dlt.resource(name="reviews", primary_key="transaction_id", write_disposition="merge")
    def reviews() -> Iterator[Any]:
        if report.stopped:
            return
        state = dlt.current.resource_state()
        cursor = None if full else state.get("cursor")
        low = EARLIEST if cursor is None else max(EARLIEST, int(cursor) - lookback)
        high = max(low, int(time.time()) + 2 * 86_400, report.receipts_high or 0)
        newest = int(cursor or 0)
        try:
            for _, records, _ in windowed(
                client,
                tokens,
                f"/shops/{shop_id}/reviews",
                Window(low, high),
                low_param="min_created",
                high_param="max_created",
            ):
                stamps = [r.get("created_timestamp") for r in records if isinstance(r, dict)]
                newest = max([newest, *(t for t in stamps if isinstance(t, int))])
                yield from _checked(report, "reviews", shop_id, validation.REVIEW, "transaction_id", records)
        except (QuotaExhausted, NeedsReauthorization) as exc:
            _stop_on(report, exc)
            return
        state["cursor"] = newest

    @dlt.resource(name="ledger_entries", primary_key="entry_id", write_disposition="merge")
    def ledger_entries() -> Iterator[Any]:
        if report.stopped:
            return
        state = dlt.current.resource_state()
        cursor = None if full else state.get("cursor")
        start = EARLIEST + 1 if cursor is None else max(EARLIEST, int(cursor) - lookback)
        if cursor is None:
            start = max(start, int(time.time()) - 3 * 365 * 86_400)
        end = int(time.time()) + 2 * 86_400
        step = LEDGER_WINDOW_DAYS * 86_400
        for low in range(start, end, step):
            try:
                for window, records, done in windowed(
                    client,
                    tokens,
                    f"/shops/{shop_id}/payment-account/ledger-entries",
                    Window(low, min(end, low + step - 1)),
                    low_param="min_created",
                    high_param="max_created",
                ):
                    rows = [r | {"shop_id": shop_id} if isinstance(r, dict) else r for r in records]
                    yield from _checked(report, "ledger_entries", shop_id, validation.LEDGER, "entry_id", rows)
                    if done:
                        state["cursor"] = max(int(state.get("cursor") or 0), min(window.high, int(time.time())))
            except (QuotaExhausted, NeedsReauthorization) as exc:
                _stop_on(report, exc)
                return

    return [shops, shop_sections, listings, receipts, payments, reviews, ledger_entries]
