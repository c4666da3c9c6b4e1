"""`EtsyClient.pages` fetches the next page while the caller works on the current one, and never pays for it.

The emulator's own call counter is the witness: what Etsy was asked, not what the client believes it asked.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from etsy_pipeline.emulator.server import BackgroundEmulator
from etsy_pipeline.emulator.state import Config
from etsy_pipeline.etsy.errors import QuotaExhausted
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline_tests.etsy.conftest import Connected, connect

LIMIT = 25


def _asked(conn: Connected) -> int:
    calls = conn.stats()["calls"]
    assert isinstance(calls, dict)
    return int(calls.get("getShopReceipts", 0))


def _eventually(conn: Connected, calls: int, seconds: float = 10) -> int:
    """The emulator's count once it reaches `calls` (a call fetched ahead may still be on its way), or after
    `seconds`."""
    deadline = time.monotonic() + seconds
    while _asked(conn) < calls and time.monotonic() < deadline:
        time.sleep(0.01)
    return _asked(conn)


def _read(conn: Connected, **params: Any) -> Any:
    path = f"/shops/{conn.shop_id}/receipts"
    return conn.client.pages(path, tokens=conn.tokens, limit=LIMIT, sort_on="created", sort_order="asc", **params)


def test_the_next_page_is_asked_for_while_the_caller_holds_this_one_and_no_page_more(connected: Connected) -> None:
    connected.client.prefetch = False
    plain = [r["receipt_id"] for page in _read(connected) for r in page.results]
    assert len(plain) > 3 * LIMIT  # enough pages to fetch ahead
    connected.client.prefetch = True
    before = _asked(connected)
    got: list[int] = []
    for n, page in enumerate(_read(connected)):
        got += [r["receipt_id"] for r in page.results]
        if n >= 1 and (n + 1) * LIMIT < page.total:  # while page n is in hand, page n + 1 is asked for already
            assert _eventually(connected, before + n + 2) == before + n + 2
    assert got == plain  # the same records in the same order
    # One call a page: none past the count (the one after a full last page is Etsy's overlap check, asked as before)
    assert _asked(connected) - before == len(plain) // LIMIT + 1


def test_a_caller_that_stops_early_waits_for_the_page_fetched_ahead(repos: Repositories) -> None:
    """A pull's calls are all made, answered and counted inside it (a batch counts each shop's calls by the
    difference), so stopping must not leave a call behind still on its way."""
    with BackgroundEmulator(Config(scale="tiny", qps=0, qpd=1_000)) as slow:
        conn = connect(slow, repos)
        try:
            conn.admin("faults", latency_rate=1.0, latency_ms=300)
            before = _asked(conn)
            pages = _read(conn)
            next(pages), next(pages)
            remaining = conn.client.last_remaining_today
            assert remaining is not None
            assert _eventually(conn, before + 3) == before + 3  # the third page's call is at Etsy, answered slowly
            pages.close()
            assert conn.client.calls == 3
            assert conn.client.last_remaining_today == remaining - 1  # its answer came before the paging ended
        finally:
            conn.client.close()


def test_a_failure_of_a_page_fetched_ahead_reaches_the_caller_at_that_page(repos: Repositories) -> None:
    with BackgroundEmulator(Config(scale="tiny", qps=0, qpd=2)) as limited:
        conn = connect(limited, repos)
        try:
            pages = _read(conn)
            first, second = next(pages), next(pages)  # the third page is asked for ahead, and refused
            assert len(first.results) == len(second.results) == LIMIT
            with pytest.raises(QuotaExhausted):
                next(pages)
            assert conn.client.calls == _asked(conn) == 2  # the limiter saw the day spent: the third never left
        finally:
            conn.client.close()


def test_a_caller_that_stops_at_the_count_pays_no_page_past_it(connected: Connected) -> None:
    """The listing scan stops once it holds Etsy's count; when the last page is full, a page fetched past the
    count would be a call it never needed (a no-change pull's bound counts these calls)."""
    before, total = _asked(connected), 0
    seen: set[int] = set()
    pages = _read(connected)
    for page in pages:
        seen.update(r["receipt_id"] for r in page.results)
        total = page.total
        if len(seen) >= total:
            break
    assert _eventually(connected, before + total // LIMIT + 1, seconds=1) == before + total // LIMIT  # none ahead
    pages.close()
    assert total % LIMIT == 0 and total // LIMIT >= 3  # full last page: the case where one more could be asked
    assert _asked(connected) - before == total // LIMIT


def test_settle_waits_for_calls_made_ahead_and_cancels_those_not_started(connected: Connected) -> None:
    """What a failed extraction left in flight is waited for before its run counts its calls (`runner._begin`)."""
    client = connected.client
    before = _asked(connected)
    release = threading.Event()
    path = f"/shops/{connected.shop_id}/receipts"

    def slow_call() -> Any:
        release.wait(10)
        return client.get(path, tokens=connected.tokens, limit=1)

    running = [client.fetch_ahead(slow_call) for _ in range(4)]  # the fetch-ahead pool's four threads
    queued = client.fetch_ahead(slow_call)  # waits for a thread
    threading.Timer(0.2, release.set).start()
    client.settle()
    assert all(f.done() and f.exception() is None for f in running)
    assert queued.cancelled()
    assert _asked(connected) - before == 4  # the four calls are made (and counted) before settle returns
