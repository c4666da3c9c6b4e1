"""Paging helpers for the Etsy source: time windows that keep every offset under Etsy's 12,000 cap, cursors that
advance page by page, and the run report that lets a run stop cleanly (spent quota, revoked token) and say how far
it got."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from etsy_pipeline.etsy.auth import TokenManager
from etsy_pipeline.etsy.client import MAX_LIMIT, MAX_OFFSET, EtsyClient


@dataclass
class RunReport:
    """Filled in by the resources while they run; read by the caller after the load.

    `cursors` is how far each resource got in this run. The caller stores it in the database only once the rows
    it covers are loaded and shaped, so a cursor never runs ahead of the data.
    """

    stopped: str | None = None  # why the extraction stopped early ("quota", "reauthorize", …)
    listing_scan_complete: bool = False  # every state was scanned to its end: `listing_ids` is the whole shop
    cursors: dict[str, int] = field(default_factory=dict)
    caps: dict[str, int] = field(default_factory=dict)  # a cursor may not pass this: work it covers is unfinished
    receipts_high: int | None = None  # the newest receipt change Etsy reported (its clock, not ours)
    etsy_counts: dict[str, int] = field(default_factory=dict)  # what Etsy says it holds, for reconciliation
    receipt_ids: set[int] = field(default_factory=set)  # receipts read in this run
    reread_receipts: int = 0  # receipts read again by id because the ledger shows an unstamped change
    quarantined: dict[str, int] = field(default_factory=dict)
    unkeyed: dict[str, int] = field(default_factory=dict)  # quarantined in this run with no usable id
    fetched: dict[str, int] = field(default_factory=dict)
    unchanged: dict[str, int] = field(default_factory=dict)  # fetched, but equal to what is stored: not loaded
    listing_ids: set[int] = field(default_factory=set)  # every listing the scan saw, changed or not

    def cap(self, resource: str, value: int) -> None:
        self.caps[resource] = min(value, self.caps.get(resource, value))

    def reached(self) -> dict[str, int]:
        """The cursors this run may store: how far each resource got, held back where follow-up work is missing."""
        return {name: min(value, self.caps.get(name, value)) for name, value in self.cursors.items()}

    def count(self, entity: str, n: int = 1) -> None:
        self.fetched[entity] = self.fetched.get(entity, 0) + n


@dataclass(frozen=True)
class Window:
    low: int
    high: int


class Cursor:
    """One resource's position: every record stamped at or before `value` has been read.

    Pages inside a window move it forward when they come oldest first (checked, not assumed: Etsy does not
    document every endpoint's order); otherwise it moves when the window is finished. Either way a run stopped
    by the quota resumes from the last page or window it finished, never from the start of the range.
    """

    def __init__(self, value: int | None, ceiling: int | None = None) -> None:
        self.value = value
        self.ceiling = ceiling  # Etsy's "now" as far as we know it: a finished window never moves us past it
        self._window: Window | None = None
        self._newest: int | None = None
        self._ordered = True
        self.newest_seen: int | None = None

    def _raise(self, stamp: int) -> None:
        self.value = stamp if self.value is None else max(self.value, stamp)

    def page(self, window: Window, records: list[Any], done: bool, key: str) -> None:
        if window != self._window:
            self._window, self._newest, self._ordered = window, None, True
        stamps = [r[key] for r in records if isinstance(r, dict) and isinstance(r.get(key), int)]
        if stamps:
            in_order = stamps == sorted(stamps) and (self._newest is None or stamps[0] >= self._newest)
            self._ordered = self._ordered and in_order
            self._newest = max(stamps) if self._newest is None else max(self._newest, *stamps)
            self.newest_seen = max(self.newest_seen or 0, self._newest)
            if self._ordered:
                self._raise(stamps[-1])
        if done:
            # A finished window is read up to its upper bound, but that bound may lie in Etsy's future: never move
            # past the newest time Etsy has shown us.
            limit = self.ceiling if self.ceiling is not None else self.newest_seen
            if limit is not None:
                self._raise(min(window.high, limit))


def windowed(
    client: EtsyClient,
    tokens: TokenManager,
    path: str,
    window: Window,
    *,
    low_param: str,
    high_param: str,
    max_count: int = MAX_OFFSET + MAX_LIMIT,
    **params: Any,
) -> Iterator[tuple[Window, list[dict[str, Any]], bool]]:
    """Pages of `path` over [low, high], oldest window first; yields (window, records, window_done).

    The paging itself is `EtsyClient.pages`; this adds the time windows.

    A window holding more than `max_count` records is split in two before any of it is read: at most 12,000 so
    no offset passes Etsy's cap, and less for endpoints that page newest first, so a stopped run re-reads at most
    one small window.
    """
    todo = [window]
    while todo:
        current = todo.pop()
        bounds = {low_param: current.low, high_param: current.high}
        for n, page in enumerate(client.pages(path, tokens=tokens, trust_count=True, **bounds, **params)):
            if n == 0 and page.total > max_count and current.high > current.low:
                middle = (current.low + current.high) // 2
                todo += [Window(middle + 1, current.high), Window(current.low, middle)]
                break
            yield current, page.results, page.last
