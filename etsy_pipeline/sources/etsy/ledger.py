"""The payment ledger, and the receipts it shows changed without Etsy stamping them.

Etsy leaves a receipt's `updated_timestamp` alone when it is refunded (and for some cancellations), often weeks
after the sale, far outside any look-back window. Every refund does leave a ledger entry (REFUND_GROSS, referring
to a payment adjustment), and ledger entries are only ever appended. So each new adjusting entry is followed to its
payment with the batch call `getPaymentAccountLedgerEntryPayments` (up to 100 entries a call), and the payment's
receipt is read again by id, whatever its age.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import dlt
from dlt.sources import DltResource

from etsy_pipeline.etsy.errors import EtsyClientError
from etsy_pipeline.sources.etsy import validation
from etsy_pipeline.sources.etsy.context import STOPS, Pull
from etsy_pipeline.sources.etsy.helpers import Cursor, Window, windowed
from etsy_pipeline.sources.etsy.receipts import RECEIPT_HINTS, protected
from etsy_pipeline.sources.etsy.settings import LEDGER_HISTORY_DAYS, LEDGER_WINDOW_DAYS, MAX_IDS

log = logging.getLogger(__name__)


def adjusting(entry: Any) -> bool:
    """A ledger entry that changes money on an earlier sale (a refund, a cancellation's refund, a reversal)."""
    if not isinstance(entry, dict):
        return False
    kind = str(entry.get("ledger_type") or "").upper()
    return (
        entry.get("reference_type") == "payment_adjustment"
        or kind.startswith("REFUND")
        or bool(entry.get("payment_adjustments"))
    )


def ledger_resource(pull: Pull, now: float) -> DltResource:
    @dlt.resource(name="ledger_entries", primary_key="entry_id", write_disposition="merge")
    def ledger_entries() -> Iterator[Any]:
        report = pull.report
        if report.stopped:
            return
        start = pull.start("ledger_entries")
        low = pull.low("ledger_entries")
        if start is None:
            low = max(low, int(now) - LEDGER_HISTORY_DAYS * 86_400)
        end = int(max(now, report.receipts_high or 0)) + 2 * 86_400
        cursor = Cursor(start)
        step = LEDGER_WINDOW_DAYS * 86_400
        path = f"/shops/{pull.shop_id}/payment-account/ledger-entries"
        try:
            for window_low in range(low, end, step):
                window = Window(window_low, min(end, window_low + step - 1))
                for part, records, done in windowed(
                    pull.client, pull.tokens, path, window, low_param="min_created", high_param="max_created"
                ):
                    yield from pull.checked("ledger_entries", validation.LEDGER, "entry_id", pull.with_shop(records))
                    cursor.page(part, records, done, "created_timestamp")
                    if cursor.value is not None:
                        report.cursors["ledger_entries"] = cursor.value
        except STOPS as exc:
            pull.stop(exc)

    return ledger_entries


def ledger_payments_transformer(pull: Pull, ledger: DltResource, pending: list[int]) -> DltResource:
    """The payments that new adjusting ledger entries refer to, into the `payments` table.

    `pending[0]` is shared with the re-read transformer: the ledger time before which everything is resolved.
    """

    @dlt.transformer(
        name="ledger_payments", table_name="payments", primary_key="payment_id", write_disposition="merge",
        data_from=ledger,
    )  # fmt: skip
    def ledger_payments(batch: Any) -> Iterator[Any]:
        entries = [e for e in batch if adjusting(e)] if isinstance(batch, list) else []
        if not entries:
            return
        # Until these entries' receipts are read again, the ledger cursor must not pass them.
        pending[0] = min(int(e.get("created_timestamp") or 0) for e in entries) - 1
        ids = [e["entry_id"] for e in entries]
        for chunk in (ids[i : i + MAX_IDS] for i in range(0, len(ids), MAX_IDS)):
            if pull.report.stopped:
                pull.report.cap("ledger_entries", pending[0])
                return
            try:
                page = pull.get(
                    f"/shops/{pull.shop_id}/payment-account/ledger-entries/payments",
                    ledger_entry_ids=",".join(str(i) for i in chunk),
                )
            except STOPS as exc:
                pull.stop(exc)
                pull.report.cap("ledger_entries", pending[0])
                return
            except EtsyClientError as exc:  # hold the cursor: the next run asks again
                log.warning("payments of %d ledger entries could not be read: %s", len(chunk), exc)
                pull.report.cap("ledger_entries", pending[0])
                continue
            yield from pull.checked("payments", validation.PAYMENT, "payment_id", page["results"])

    return ledger_payments


def reread_transformer(pull: Pull, payments: DltResource, pending: list[int]) -> DltResource:
    """Each receipt whose payment was adjusted, read again by id unless this run already read it."""

    @dlt.transformer(name="receipt_rereads", table_name="receipts", data_from=payments, **RECEIPT_HINTS)
    def receipt_rereads(batch: Any) -> Iterator[Any]:
        report = pull.report
        wanted = {p.get("receipt_id") for p in batch if isinstance(p, dict)} if isinstance(batch, list) else set()
        for receipt_id in sorted(r for r in wanted if isinstance(r, int) and r not in report.receipt_ids):
            if report.stopped:
                report.cap("ledger_entries", pending[0])
                return
            try:
                record = pull.get(f"/shops/{pull.shop_id}/receipts/{receipt_id}")
            except STOPS as exc:
                pull.stop(exc)
                report.cap("ledger_entries", pending[0])
                return
            report.receipt_ids.add(receipt_id)
            report.reread_receipts += 1
            yield from pull.checked("receipts", validation.RECEIPT, "receipt_id", protected(pull, [record]))

    return receipt_rereads
