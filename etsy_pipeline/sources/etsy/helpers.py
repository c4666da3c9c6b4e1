"""Paging helpers for the Etsy source: time windows that keep every offset under Etsy's 12,000 cap, and the
run report that lets a run stop cleanly (spent quota, revoked token) and say where it stopped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from etsy_pipeline.etsy.auth import TokenManager
from etsy_pipeline.etsy.client import EtsyClient
from etsy_pipeline.sources.etsy.settings import MAX_OFFSET, PAGE_LIMIT


@dataclass
class RunReport:
    """Filled in by the resources while they run; read by the caller after the load."""

    stopped: str | None = None  # why the extraction stopped early ("quota", "reauthorize", …)
    listing_scan_complete: bool = False
    receipts_cursor: int | None = None
    receipts_high: int | None = None  # the newest receipt change Etsy reported (its clock, not ours)
    api_calls: int = 0
    quarantined: dict[str, int] = field(default_factory=dict)
    fetched: dict[str, int] = field(default_factory=dict)

    def count(self, entity: str, n: int = 1) -> None:
        self.fetched[entity] = self.fetched.get(entity, 0) + n


@dataclass(frozen=True)
class Window:
    low: int
    high: int


def windowed(
    client: EtsyClient,
    tokens: TokenManager,
    path: str,
    window: Window,
    *,
    low_param: str,
    high_param: str,
    **params: Any,
) -> Iterator[tuple[Window, list[dict[str, Any]], bool]]:
    """Pages of `path` over [low, high], oldest window first; yields (window, records, window_done).

    A window whose count would need an offset above 12,000 is split in two before any of it is read.
    """
    todo = [window]
    while todo:
        current = todo.pop()
        offset = 0
        while True:
            page = client.get(
                path,
                tokens=tokens,
                limit=PAGE_LIMIT,
                offset=offset,
                **{low_param: current.low, high_param: current.high},
                **params,
            )
            count = int(page["count"])
            if offset == 0 and count > MAX_OFFSET + PAGE_LIMIT and current.high > current.low:
                middle = (current.low + current.high) // 2
                todo += [Window(middle + 1, current.high), Window(current.low, middle)]
                break
            offset += PAGE_LIMIT
            done = offset >= count or not page["results"]
            yield current, list(page["results"]), done
            if done:
                break
