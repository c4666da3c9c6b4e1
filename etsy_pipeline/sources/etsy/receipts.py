"""Receipts, with transactions, shipments and refunds as child tables (their payments come through the ledger).

Receipts are incremental on `updated_timestamp` through `min_last_modified`, re-reading a look-back window, pages
oldest change first so the cursor moves page by page. Etsy does not stamp refunds and some cancellations: the
ledger resource finds those (`ledger.py`) and, now and then, a deep re-read of recently created receipts catches
anything else. Buyer personal data is replaced by ciphertext before anything is stored (`pii.py`).

Good receipts skip dlt's item normalizer: they are flattened here and handed to dlt as CSV files (`fastpath.py`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.sources import DltResource

from etsy_pipeline.sources.etsy import validation
from etsy_pipeline.sources.etsy.context import STOPS, Pull
from etsy_pipeline.sources.etsy.digests import stamped
from etsy_pipeline.sources.etsy.fastpath import FastPath, route, with_quarantine
from etsy_pipeline.sources.etsy.helpers import Window, windowed
from etsy_pipeline.sources.etsy.pii import protect_receipt

RECEIPT_HINTS: dict[str, Any] = {"primary_key": "receipt_id", "write_disposition": "merge", "max_table_nesting": 1}
RECEIPT_NESTING = 1


def protected(pull: Pull, records: list[Any]) -> list[Any]:
    """Buyer data encrypted, after the digest of what Etsy sent is taken (ciphertext differs every time)."""
    return [
        protect_receipt(stamped(r | {"shop_id": pull.shop_id}, pull.digest_key), pull.encrypt)
        if isinstance(r, dict)
        else r
        for r in records
    ]


def _fresh(pull: Pull, records: list[Any]) -> list[Any]:
    """Records not read earlier in this run (a deep re-read overlaps the incremental read)."""
    report = pull.report
    fresh = []
    for r in records:
        ident = r.get("receipt_id") if isinstance(r, dict) else None
        if isinstance(ident, int):
            if ident in report.receipt_ids:
                continue
            report.receipt_ids.add(ident)
        fresh.append(r)
    return fresh


def _checked(pull: Pull, records: list[Any]) -> Iterator[Any]:
    return pull.checked("receipts", validation.RECEIPT, "receipt_id", protected(pull, _fresh(pull, records)))


def receipts_resource(pull: Pull, deep_days: int, deep_every_hours: int) -> DltResource:
    path = f"/shops/{pull.shop_id}/receipts"

    def _deep(high: int) -> Iterator[Any]:
        """Receipts created in the last `deep_days`, whatever their stamp: unstamped cancellations show here."""
        done = pull.start("receipts_deep")
        if deep_days <= 0 or (done is not None and high - done < deep_every_hours * 3600):
            return
        if pull.start("receipts") is not None:  # a first or full read has just read everything
            window = Window(max(high - deep_days * 86_400, 946_684_800), high)
            for _, records, _ in windowed(pull.client, pull.tokens, path, window, low_param="min_created",
                                          high_param="max_created", sort_on="created", sort_order="asc"):  # fmt: skip
                yield from _checked(pull, records)
        pull.report.cursors["receipts_deep"] = high

    @dlt.resource(name="receipts", **(RECEIPT_HINTS | {"table_name": route("receipts")}))
    def receipts() -> Iterator[Any]:
        yield from FastPath("receipts", "receipt_id", RECEIPT_NESTING).stream(_read())

    def _read() -> Iterator[Any]:
        report = pull.report
        try:
            newest = pull.get(path, limit=1, sort_on="updated", sort_order="desc")
            report.etsy_counts["receipts"] = int(newest["count"])
            if not newest["results"]:
                return
            high = int(newest["results"][0]["updated_timestamp"])
            report.receipts_high = high
            for name, span in pull.reads("receipts", high):  # the new changes, then the second look
                if span.low > high:  # Etsy's newest change was read in full by an earlier run
                    continue
                cursor = pull.cursor(name, span, ceiling=high)
                for window, records, done in windowed(
                    pull.client, pull.tokens, path, span,
                    low_param="min_last_modified", high_param="max_last_modified", sort_on="updated", sort_order="asc",
                ):  # fmt: skip
                    yield from _checked(pull, records)
                    if report.stopped:  # the page's payments did not all come: resume from before this page
                        return
                    pull.advance(name, cursor, window, records, done, "updated_timestamp")
                if name == "receipts" and pull.lookback > 0:
                    # Read to Etsy's newest change: the next run starts after its second and, when nothing is
                    # newer, reads no page. A change stamped in that same second after this read is left to
                    # the second look (and, for recent orders, the deep re-read); without a look-back the
                    # cursor stays on the second, read again every run.
                    report.cursors[name] = high + 1
            yield from _deep(high)
        except STOPS as exc:
            pull.stop(exc)

    return with_quarantine(receipts)
