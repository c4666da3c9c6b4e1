"""What every resource of one shop's pull shares: the client, the shop, the run report, the cursors it starts from.

Resources are small factories over this context (one per entity, as in dlt's verified sources) instead of
closures nested in one function, so each can be read and tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any

import dlt
import orjson

from etsy_pipeline.etsy.auth import TokenManager
from etsy_pipeline.etsy.client import EtsyClient
from etsy_pipeline.etsy.errors import NeedsReauthorization, QuotaExhausted
from etsy_pipeline.sources.etsy import validation
from etsy_pipeline.sources.etsy.digests import DIGEST, Lookup, stamped
from etsy_pipeline.sources.etsy.helpers import Cursor, RunReport, Window
from etsy_pipeline.sources.etsy.pii import Encrypt
from etsy_pipeline.sources.etsy.settings import EARLIEST, QUARANTINE_TABLE

QUARANTINE_HINTS = dlt.mark.make_hints(
    table_name=QUARANTINE_TABLE,
    write_disposition="append",
    primary_key=[],
    columns={"raw": {"data_type": "text"}, "errors": {"data_type": "text"}, "record_key": {"data_type": "text"}},
)
STOPS = (QuotaExhausted, NeedsReauthorization)
SECOND_LOOK = "_second_look"  # suffix of the cursor of a resource's second look (see `Pull.second_look`)
SECOND_LOOKS = ("receipts", "ledger_entries", "reviews")  # the resources that have one, in order of preference


@dataclass
class Pull:
    """One shop's pull: where it starts (`cursors`, read from the database) and what it reports."""

    client: EtsyClient
    tokens: TokenManager
    shop_id: int
    report: RunReport
    full: bool = False
    lookback: int = 0  # seconds after which a change is read a second time, for what Etsy does not stamp
    cursors: Mapping[str, int] = field(default_factory=dict)
    encrypt: Encrypt | None = None
    stored: Lookup | None = None  # the digests of what is stored, so unchanged records stop here (`digests.py`)
    digest_key: bytes = b""

    def start(self, resource: str) -> int | None:
        """The stored cursor of `resource`, or None when the run reads everything."""
        return None if self.full else self.cursors.get(resource)

    def low(self, resource: str) -> int:
        """Where the read of new changes starts: the cursor itself, inclusive, since a page may have ended inside
        its second (records stamped in that second are read again)."""
        cursor = self.start(resource)
        return EARLIEST if cursor is None else max(EARLIEST, cursor)

    def reads(self, resource: str, high: int, first_low: int = EARLIEST) -> list[tuple[str, Window]]:
        """The spans a run reads of `resource`, each with the cursor it advances: the new changes (from the cursor,
        or from `first_low` on a first read, to `high`), then the second look (`second_look`)."""
        low = self.low(resource) if self.start(resource) is not None else max(EARLIEST, first_low)
        spans = [(resource, Window(low, max(low, high)))]
        second = self.second_look(resource)
        return spans + ([second] if second else [])

    def cursor(self, name: str, span: Window, ceiling: int | None = None) -> Cursor:
        """The cursor a span of `reads` advances: the resource's stored one, or a second look's from its slice.

        A second look's slice lies wholly behind the resource's own cursor, in time Etsy has passed: once read it
        is done to its end even when it held nothing (else an empty slice would be read again every run)."""
        if name.endswith(SECOND_LOOK):
            return Cursor(span.low, ceiling=span.high)
        return Cursor(self.start(name), ceiling=ceiling)

    def second_look(self, resource: str) -> tuple[str, Window] | None:
        """The changes that turned `lookback` old since the last second look of `resource`, read once more.

        Etsy does not stamp every change (refunds, some cancellations, ship-by edits; REFERENCE.md §11.2). Refunds
        and paid cancellations leave ledger entries, which the pull follows at once (`ledger.py`), and receipts
        of the last 30 days are re-read daily (`receipts.py`). The look-back adds a second read of every change
        once it is `lookback` old: each record costs two reads, not one per run inside a window (twelve for 72
        hours at a 6-hour cadence). The slice is [where the last second look ended, cursor - lookback], under a
        cursor of its own that moves page by page like the others; a first incremental run only places it.

        One run takes one second look, the most overdue (`due_second_look`): the others' slices wait and widen,
        so a run where nothing changed costs one call for it instead of three, and every change still gets its
        second read within as many runs as there are second looks.
        """
        cursor = self.start(resource)
        if cursor is None or self.lookback <= 0:
            return None
        name = f"{resource}{SECOND_LOOK}"
        low = self.cursors.get(name)
        if low is None:
            self.report.cursors.setdefault(name, max(EARLIEST, cursor - self.lookback))
            return None
        slice_ = self._second_look_slice(resource)
        if slice_ is None or resource != self.due_second_look():
            return None
        return name, slice_

    def _second_look_slice(self, resource: str) -> Window | None:
        cursor, low = self.start(resource), self.cursors.get(f"{resource}{SECOND_LOOK}")
        if cursor is None or low is None:
            return None
        upper = max(EARLIEST, cursor - self.lookback)
        return Window(low, upper) if low < upper else None

    def due_second_look(self) -> str | None:
        """The resource whose second look waited longest (its slice is the widest), if any is due."""
        slices = {r: s for r in SECOND_LOOKS if (s := self._second_look_slice(r)) is not None}
        return max(slices, key=lambda r: slices[r].high - slices[r].low, default=None)

    def stop(self, exc: Exception) -> None:
        self.report.stopped = "quota" if isinstance(exc, QuotaExhausted) else "reauthorize"

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, tokens=self.tokens, **params)

    def get_ahead(self, path: str, **params: Any) -> Future[Any]:
        """`get`, asked now from the client's fetch-ahead threads; the answer (or Etsy's error) is the future's."""
        return self.client.fetch_ahead(partial(self.client.get, path, tokens=self.tokens, **params))

    def pages(self, path: str, **params: Any) -> Iterator[tuple[int, list[Any]]]:
        """The client's (count, records) pages, stopping quietly (and saying why) on quota or revocation."""
        try:
            for page in self.client.pages(path, tokens=self.tokens, **params):
                if self.report.stopped:
                    return
                yield page.total, page.results
        except STOPS as exc:
            self.stop(exc)

    def checked(
        self, entity: str, spec: validation.Spec, key: str, records: list[Any],
        unchanged: Callable[[Any], bool] | None = None, whole: bool = False,
    ) -> Iterator[Any]:  # fmt: skip
        """The page's good records that changed as one batch; each bad one separately, to the quarantine table.

        Every good record is counted as fetched; one whose digest equals the stored one (and, if given, for which
        `unchanged` also holds) is not handed on (`digests.py`), except in a full read, which loads everything.
        A `whole` list (one that stands for everything of its kind, like a shop's sections) goes on entire as soon
        as one record in it changed.
        """
        good = []
        for record in records:
            errors = validation.problems(record, spec)
            if errors:
                ident = record.get(key) if isinstance(record, dict) else None
                yield self._quarantine(entity, ident, record, errors)
            else:
                good.append(stamped(record, self.digest_key))
        self.report.count(entity, len(good))
        changed = self._changed(entity, key, good, unchanged)
        if changed:
            yield good if whole else changed

    def _changed(self, entity: str, key: str, good: list[Any], unchanged: Callable[[Any], bool] | None) -> list[Any]:
        if self.stored is None or self.full or not good:
            return good
        stored = self.stored(entity, key, [r[key] for r in good if isinstance(r.get(key), int)])
        changed = [
            r for r in good if stored.get(r.get(key)) != r[DIGEST] or (unchanged is not None and not unchanged(r))
        ]
        if len(changed) < len(good):
            self.report.unchanged[entity] = self.report.unchanged.get(entity, 0) + len(good) - len(changed)
        return changed

    def _quarantine(self, entity: str, key: Any, record: Any, errors: list[str]) -> Any:
        self.report.quarantined[entity] = self.report.quarantined.get(entity, 0) + 1
        if not isinstance(key, int):  # reconciliation cannot match it to an id, so it counts it here
            self.report.unkeyed[entity] = self.report.unkeyed.get(entity, 0) + 1
        row = {
            "entity": entity,
            "shop_id": self.shop_id,
            "record_key": None if key is None else str(key),
            "errors": "; ".join(errors)[:2000],
            "raw": orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode(),
            "quarantined_at": datetime.now(UTC).isoformat(),
        }
        return dlt.mark.with_hints(row, QUARANTINE_HINTS, create_table_variant=True)

    def advance(self, resource: str, cursor: Cursor, window: Window, records: list[Any], done: bool, key: str) -> None:
        """Move the resource's cursor past this page (see `Cursor`) and report how far it got."""
        cursor.page(window, records, done, key)
        if cursor.value is not None:
            self.report.cursors[resource] = cursor.value

    def with_shop(self, records: list[Any]) -> list[Any]:
        return [r | {"shop_id": self.shop_id} if isinstance(r, dict) else r for r in records]
