"""The Etsy Open API v3 HTTP client: one keep-alive connection pool, the shared limiter, retries, paging.

Retry policy: 429 (per-second), 500, 502, 503, 504, network errors and cut-short bodies are retried with
exponential backoff and full jitter, honouring `retry-after`; 400, 403, 404 and 409 are not (the request itself
is wrong). A 429 for the daily quota raises `QuotaExhausted` at once. A 401 `invalid_token` refreshes the
user's access token once and repeats the call. Every retry is logged with Etsy's `x-etsy-request-uuid`; tokens
and keys never appear in logs or errors.

Writes (`write()`) are different: once a write may have reached Etsy, the client never sends it again itself.
A 5xx, a timeout or a cut-short body after sending raises `WriteOutcomeUnknown`, so the caller reads Etsy's state
back before deciding to send again (createReceiptShipment adds a shipment and e-mails the buyer on every call).
Only answers that prove nothing was done are retried here: a 429 and a connection that never opened.

Paging asks for the next page while the caller works on the current one (`pages`): a pull spends its time either
waiting for Etsy or working on what Etsy sent, and the two now overlap. The limiter still paces every call.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import orjson

from etsy_pipeline.etsy.auth import TokenManager
from etsy_pipeline.etsy.errors import EtsyClientError, EtsyError, EtsyServerError, QuotaExhausted
from etsy_pipeline.etsy.ratelimit import Limiter
from etsy_pipeline.etsy.transport import Answer, Transport, TransportFailure

log = logging.getLogger(__name__)

API = "/v3/application"
MAX_LIMIT = 100
MAX_OFFSET = 12_000
RETRYABLE = {429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 300.0  # a longer retry-after (a spent day) is not waited out inside a call


class Page(NamedTuple):
    """One page of a list endpoint: Etsy's `count` (of the whole result), this page's records, and whether it ends
    the read."""

    total: int
    results: list[dict[str, Any]]
    last: bool


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_seconds: float = 0.5
    cap_seconds: float = 30.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        jitter = rng.uniform(0, min(self.cap_seconds, self.base_seconds * 2**attempt))
        return max(jitter, min(retry_after or 0.0, MAX_RETRY_AFTER))


class OffsetTooLarge(EtsyClientError):
    """Paging would pass Etsy's 12,000 offset cap: split the query (by time window) instead."""


class WriteOutcomeUnknown(EtsyError):
    """A write may or may not have been applied (5xx, timeout or cut-short body after sending): read Etsy back."""


def _retry_after(response: Answer) -> float | None:
    raw = response.headers.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _error_body(response: Answer) -> dict[str, Any]:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return {"error": response.text[:200] or response.reason}
    return body if isinstance(body, dict) else {"error": str(body)[:200]}


class EtsyClient:
    def __init__(
        self,
        *,
        base_url: str,
        keystring: str,
        shared_secret: str,
        limiter: Limiter,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
        prefetch: bool = True,
    ) -> None:
        self.http = Transport(
            base_url, {"x-api-key": f"{keystring}:{shared_secret}", "accept": "application/json"}, timeout=timeout
        )
        self.limiter = limiter
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.rng = random.Random(seed)
        self.calls = 0
        self.retries = 0
        self.last_remaining_today: int | None = None
        self.prefetch = prefetch
        self._counting = threading.Lock()  # pages are fetched ahead from another thread
        self._ahead: ThreadPoolExecutor | None = None
        self._in_flight: set[Future[Any]] = set()  # calls made ahead whose answers have not come

    def close(self) -> None:
        if self._ahead is not None:
            self._ahead.shutdown(wait=True)
            self._ahead = None
        self.http.close()

    def fetch_ahead(self, work: Callable[[], Any]) -> Future[Any]:
        """Run `work` (calls of this client) in the client's fetch-ahead threads; `close` waits for it."""
        if self._ahead is None:
            self._ahead = ThreadPoolExecutor(max_workers=4, thread_name_prefix="etsy-page-ahead")
        future = self._ahead.submit(work)
        with self._counting:
            self._in_flight.add(future)
        future.add_done_callback(self._landed)
        return future

    def _landed(self, future: Future[Any]) -> None:
        with self._counting:
            self._in_flight.discard(future)

    def settle(self) -> None:
        """Wait for every call made ahead, its answer (or error) dropped, or cancel it if it has not started.

        A pull that fails part-way may leave calls in flight; the client is shared by the shops of a batch, so
        they are waited for before the pull ends: each is counted in its own run, with its own shop's tokens.
        """
        with self._counting:
            flying = list(self._in_flight)
        started = [future for future in flying if not future.cancel()]  # all cancelled first, then waited for
        for future in started:
            future.exception()

    def request(
        self,
        method: str,
        path: str,
        *,
        tokens: TokenManager | None = None,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
        json: Any = None,
        write: bool = False,
    ) -> Any:
        """One API call (path relative to /v3/application) with the retry policy; returns the parsed JSON."""
        url = API + path
        refreshed = False
        attempt = 0
        while True:
            headers = {}
            token = tokens.access_token() if tokens is not None else None
            if token is not None:
                headers["authorization"] = f"Bearer {token}"
            self.limiter.acquire()
            with self._counting:
                self.calls += 1
            reason: str
            retry_after: float | None = None
            request_id: str | None = None
            try:
                response = self.http.request(method, url, params=params, data=data, json=json, headers=headers)
            except TransportFailure as exc:
                reason = f"network error {exc.kind}"
                if write and exc.sent:
                    raise WriteOutcomeUnknown(f"{method} {url}: {reason}") from None
            else:
                self.limiter.observe(response.headers)
                remaining = response.headers.get("x-remaining-today")
                if remaining is not None and remaining.isdigit():
                    self.last_remaining_today = int(remaining)
                request_id = response.headers.get("x-etsy-request-uuid")
                status = response.status
                if status < 300:
                    try:
                        return orjson.loads(response.content)
                    except orjson.JSONDecodeError:
                        reason = "a cut-short or invalid JSON body"
                        if write:
                            raise WriteOutcomeUnknown(f"{method} {url}: {reason}", status=status,
                                                      request_id=request_id) from None  # fmt: skip
                else:
                    body = _error_body(response)
                    message = str(body.get("error", ""))
                    if status == 401 and message == "invalid_token" and tokens and token and not refreshed:
                        tokens.refresh(token)
                        refreshed = True
                        continue
                    if status == 429 and "daily" in message.lower():
                        raise QuotaExhausted(message, status=status, request_id=request_id,
                                             retry_after=_retry_after(response))  # fmt: skip
                    if status not in RETRYABLE:
                        raise EtsyClientError(message or response.reason, status=status, request_id=request_id)
                    reason = f"HTTP {status} {message}".strip()
                    if write and status != 429:
                        raise WriteOutcomeUnknown(f"{method} {url}: {reason}", status=status, request_id=request_id)
                    retry_after = _retry_after(response)
            attempt += 1
            if attempt >= self.retry.attempts:
                raise EtsyServerError(
                    f"{method} {url} failed after {attempt} attempts: {reason}", request_id=request_id
                )
            delay = self.retry.delay(attempt - 1, retry_after, self.rng)
            with self._counting:
                self.retries += 1
            log.warning(
                "retrying %s %s after %s (x-etsy-request-uuid %s), attempt %d/%d, waiting %.2fs",
                method, url, reason, request_id or "-", attempt + 1, self.retry.attempts, delay,
            )  # fmt: skip
            self.sleep(delay)

    def get(self, path: str, *, tokens: TokenManager | None = None, **params: Any) -> Any:
        return self.request("GET", path, tokens=tokens, params={k: v for k, v in params.items() if v is not None})

    def write(
        self,
        method: str,
        path: str,
        *,
        tokens: TokenManager,
        data: dict[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """One write (PUT, PATCH, POST), never repeated once it may have reached Etsy (see the module doc)."""
        return self.request(method, path, tokens=tokens, data=data, json=json, write=True)

    def pages(
        self,
        path: str,
        *,
        tokens: TokenManager | None = None,
        limit: int = MAX_LIMIT,
        trust_count: bool = False,
        **params: Any,
    ) -> Iterator[Page]:
        """The one paging loop of the project: pages of `path`, following offsets; refuses to pass 12,000.

        A short page is the last. A full one at or past `count` may not be: Etsy's listing pages can overlap
        (#510), which pushes the last records past the count, so one more page is asked for. Endpoints whose
        pages do not overlap (time-filtered reads) pass `trust_count` and stop at the count, saving that call.

        From the second page on, the next page is asked for before this one is handed over (`prefetch`), while
        the caller works on it; only while Etsy counts records beyond it, so a caller that stops at the count
        (the listing scan) or after the first page (a window split) never pays a call it would not have made.
        A page fetched ahead that the caller no longer wants is waited for before the paging ends, so every call
        of a pull is made (and counted) inside it.
        """
        offset = 0
        ahead: Future[Any] | None = None
        try:
            while True:
                if offset > MAX_OFFSET:
                    raise OffsetTooLarge(f"paging {path} would pass Etsy's maximum offset of {MAX_OFFSET}")
                if ahead is not None:
                    page, ahead = ahead.result(), None
                else:
                    page = self.get(path, tokens=tokens, limit=limit, offset=offset, **params)
                count, results = int(page["count"]), list(page["results"])
                offset += limit
                last = len(results) < limit or (trust_count and offset >= count)
                if self.prefetch and not last and offset > limit and offset < count and offset <= MAX_OFFSET:
                    ahead = self.fetch_ahead(
                        partial(self.get, path, tokens=tokens, limit=limit, offset=offset, **params)
                    )
                yield Page(count, results, last)
                if last:
                    return
        finally:
            if ahead is not None and not ahead.cancel():
                ahead.exception()  # made, so counted in this paging; its answer (or error) is not wanted
