"""The payment ledger, every payment it refers to, and the receipts it shows changed without Etsy stamping them.

Etsy leaves a receipt's `updated_timestamp` alone when it is refunded (and for some cancellations), often weeks
after the sale, far outside any look-back window. Every refund does leave a ledger entry (REFUND_GROSS, referring
to a payment adjustment), and ledger entries are only ever appended. So each new adjusting entry is followed to its
payment with the batch call `getPaymentAccountLedgerEntryPayments` (up to 100 entries a call), and the payment's
receipt is read again by id, whatever its age.

Ledger entries and payments skip dlt's item normalizer (`fastpath.py`); the transformers still get each page's
records, as a `Page`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import dlt
from dlt.sources import DltResource

from etsy_pipeline.etsy.errors import EtsyClientError
from etsy_pipeline.sources.etsy import validation
from etsy_pipeline.sources.etsy.context import STOPS, Pull
from etsy_pipeline.sources.etsy.fastpath import End, FastPath, records_of, route, with_quarantine
from etsy_pipeline.sources.etsy.helpers import Cursor, Window, windowed
from etsy_pipeline.sources.etsy.receipts import RECEIPT_HINTS, protected
from etsy_pipeline.sources.etsy.settings import LEDGER_HISTORY_DAYS, LEDGER_WINDOW_DAYS, MAX_IDS

log = logging.getLogger(__name__)


PAYMENT_REFERENCES = {"shop_payment", "payment_adjustment"}
SOURCE_NESTING = 2  # the source's max_table_nesting, which these resources keep


def refers_to_payment(entry: Any) -> bool:
    """A ledger entry `getPaymentAccountLedgerEntryPayments` can turn into a Payment: a sale or an adjustment."""
    return isinstance(entry, dict) and (entry.get("reference_type") in PAYMENT_REFERENCES or adjusting(entry))


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
    @dlt.resource(
        name="ledger_entries", table_name=route("ledger_entries"), primary_key="entry_id", write_disposition="merge"
    )
    def ledger_entries() -> Iterator[Any]:
        yield from FastPath("ledger_entries", "entry_id", SOURCE_NESTING).stream(_read(), transformers=True)

    def _read() -> Iterator[Any]:
        report = pull.report
        if report.stopped:
            return
        end = int(max(now, report.receipts_high or 0)) + 2 * 86_400
        spans = pull.reads("ledger_entries", end, first_low=int(now) - LEDGER_HISTORY_DAYS * 86_400)
        step = LEDGER_WINDOW_DAYS * 86_400
        path = f"/shops/{pull.shop_id}/payment-account/ledger-entries"
        # Entries go on in batches that refer to at most 100 payments: each batch is one full payments call.
        batch: list[Any] = []
        refs: set[tuple[Any, ...]] = set()
        cursors: dict[str, Cursor] = {}
        paid_up_to = pull.start("ledger_entries")

        def settled(entry: Any) -> bool:
            """An unchanged entry may stay behind only if its payment came too: every entry up to the stored
            cursor had its follow-up done (`Pull.report.cap` holds the cursor before any that did not)."""
            stamp = entry.get("created_timestamp")
            return not refers_to_payment(entry) or (
                paid_up_to is not None and isinstance(stamp, int) and stamp <= paid_up_to
            )

        try:
            for name, span, window in _windows(spans, step):
                cursor = cursors.setdefault(name, pull.cursor(name, span))
                for part, records, done in windowed(
                    pull.client, pull.tokens, path, window, low_param="min_created", high_param="max_created"
                ):
                    rows = pull.with_shop(records)
                    for item in pull.checked("ledger_entries", validation.LEDGER, "entry_id", rows, settled):
                        if not isinstance(item, list):
                            yield item  # a quarantined record
                            continue
                        for entry in item:
                            ref = _reference(entry) if refers_to_payment(entry) else None
                            if ref is not None and ref not in refs and len(refs) == MAX_IDS:
                                yield batch
                                batch, refs = [], set()
                            batch.append(entry)
                            if ref is not None:
                                refs.add(ref)
                    pull.advance(name, cursor, part, records, done, "created_timestamp")
        except STOPS as exc:
            pull.stop(exc)
        if batch:
            yield batch

    return with_quarantine(ledger_entries)


def _windows(spans: list[tuple[str, Window]], step: int) -> Iterator[tuple[str, Window, Window]]:
    """Each span (new entries, second look) in windows of at most `step` seconds, oldest first."""
    for name, span in spans:
        for low in range(span.low, span.high + 1, step):
            yield name, span, Window(low, min(span.high, low + step - 1))


@dataclass
class _Asked:
    """One batch's payments calls, made ahead; `since` is the ledger time before which its follow-up is done."""

    since: int
    calls: list[Future[Any]]


class _Paid(list[Any]):
    """A batch's good payments, with the ledger time before which their receipts' re-reads are the last follow-up
    (`pending[0]` may have moved on to a later batch by the time the re-read transformer reads them)."""

    def __init__(self, payments: list[Any], since: int) -> None:
        super().__init__(payments)
        self.since = since


def payments_transformer(pull: Pull, ledger: DltResource, pending: list[int]) -> DltResource:
    """Every payment the new ledger entries refer to (a sale, a refund), into the `payments` table.

    One batch call per ledger page (up to 100 entries a call) instead of one call per receipt, and incremental
    with the ledger, so every payment arrives, not only recent ones. `pending[0]` is shared with the re-read
    transformer: the ledger time before which every follow-up is done, which the ledger cursor may not pass.

    A batch's calls are made as it comes, from the client's fetch-ahead threads, and their answers handed on with
    the next batch (the last with the ledger's `End`): Etsy answers while the pull works on the ledger's next
    page, instead of the pull waiting for each answer (a tenth of a shop's extraction). Every call is waited for
    before the transformer ends, so each is made and counted inside the pull.
    """

    fast = FastPath("payments", "payment_id", SOURCE_NESTING)
    asked: list[_Asked] = []  # batches whose answers have not been handed on, oldest first
    finished = [0]  # generators of batches of entries that ran to their end

    @dlt.transformer(
        name="payments", table_name=route("payments"), primary_key="payment_id", write_disposition="merge",
        data_from=ledger,
    )  # fmt: skip
    def payments(batch: Any) -> Iterator[Any]:
        if isinstance(batch, End):  # the ledger is read: the last answers, then the last payments' files
            while finished[0] < batch.pages:  # dlt runs the earlier batches' generators beside this one
                yield None  # nothing yet: dlt goes on to its other sources
            yield from fast.feed(_answered())
            yield from fast.finish(transformers=True)
        elif records_of(batch) is not None:
            # only on a batch of entries: what the transformer yields for a ledger file item would carry that
            # file's hints (dlt hands a transformer's items the metadata of the item it was given)
            try:
                new = _ask(batch)
                if new is not None:
                    asked.append(new)
                yield from fast.feed(_answered(keep=1 if new is not None else 0))
            finally:
                finished[0] += 1

    def _hold(since: int) -> None:
        """`pending[0]`: before `since` and before every batch still waiting for its answers."""
        pending[0] = min([since, *(a.since for a in asked)])

    def _ask(batch: list[Any]) -> _Asked | None:
        entries = [e for e in records_of(batch) or [] if refers_to_payment(e)]
        if not entries:
            return None
        since = min(int(e.get("created_timestamp") or 0) for e in entries) - 1
        _hold(since)
        if pull.report.stopped:
            pull.report.cap("ledger_entries", since)
            return None
        # A sale's gross and fee entries refer to the same payment: one entry per reference is enough.
        ids = list({_reference(e): e["entry_id"] for e in reversed(entries)}.values())
        path = f"/shops/{pull.shop_id}/payment-account/ledger-entries/payments"
        calls = [
            pull.get_ahead(path, ledger_entry_ids=",".join(str(i) for i in ids[i : i + MAX_IDS]))
            for i in range(0, len(ids), MAX_IDS)
        ]
        return _Asked(since, calls)

    def _answered(keep: int = 0) -> Iterator[Any]:
        """The answers of the batches asked for, oldest first, but for the newest `keep`; a stop or an error
        holds the ledger cursor before the batch. dlt may run this transformer's generators interleaved, so
        `asked` is read afresh at each step."""
        while len(asked) > keep:
            head = asked.pop(0)
            _hold(head.since)
            for call in head.calls:
                try:
                    page = call.result()
                except STOPS as exc:
                    pull.stop(exc)
                    pull.report.cap("ledger_entries", head.since)
                    continue
                except EtsyClientError as exc:  # hold the cursor: the next run asks again
                    log.warning("payments of a batch of ledger entries could not be read: %s", exc)
                    pull.report.cap("ledger_entries", head.since)
                    continue
                for item in pull.checked("payments", validation.PAYMENT, "payment_id", page["results"]):
                    yield _Paid(item, head.since) if isinstance(item, list) else item

    return with_quarantine(payments)


def _reference(entry: dict[str, Any]) -> tuple[Any, ...]:
    """What the entry is about; an entry that names nothing stands for itself."""
    if entry.get("reference_id") in (None, "", "0", 0):
        return ("entry", entry["entry_id"])
    return (entry.get("reference_type"), entry.get("reference_id"))


def _adjusted_since(payment: Any, since: int) -> bool:
    adjustments = payment.get("payment_adjustments") if isinstance(payment, dict) else None
    stamps = [a.get("created_timestamp") for a in adjustments or [] if isinstance(a, dict)]
    return any(isinstance(t, int) and t >= since for t in stamps)


def reread_transformer(pull: Pull, payments: DltResource, pending: list[int]) -> DltResource:
    """Each receipt whose payment was adjusted in the ledger window just read, read again by id.

    Only when receipts are read incrementally: a first or full read has every receipt as it is now anyway.
    """

    @dlt.transformer(name="receipt_rereads", table_name="receipts", data_from=payments, **RECEIPT_HINTS)
    def receipt_rereads(batch: Any) -> Iterator[Any]:
        report = pull.report
        payments = records_of(batch)
        if pull.start("receipts") is None or payments is None:
            return
        since = pull.low("ledger_entries")
        wanted = {p.get("receipt_id") for p in payments if _adjusted_since(p, since)}
        paid_since = payments.since if isinstance(payments, _Paid) else pending[0]
        for receipt_id in sorted(r for r in wanted if isinstance(r, int) and r not in report.receipt_ids):
            if report.stopped:
                report.cap("ledger_entries", min(pending[0], paid_since))
                return
            try:
                record = pull.get(f"/shops/{pull.shop_id}/receipts/{receipt_id}")
            except STOPS as exc:
                pull.stop(exc)
                report.cap("ledger_entries", min(pending[0], paid_since))
                return
            report.receipt_ids.add(receipt_id)
            report.reread_receipts += 1
            yield from pull.checked("receipts", validation.RECEIPT, "receipt_id", protected(pull, [record]))

    return receipt_rereads
