"""The Etsy client's HTTP: keep-alive connections from urllib3, and nothing else between a call and its answer.

A pull makes thousands of calls for pages of some 250 KB each, and the client does its own retries, limits and
error handling, so what it needs from an HTTP library is a request sent and an answer read whole. A receipts page
from the emulator cost 2.1 ms of CPU through httpx and 1.5 ms through urllib3, parsing included (`bench/client.py`,
docs/benchmarks.md), and a pull's CPU bounds its wall time on two cores. So the client talks to a
`urllib3` pool directly, with what httpx did for it kept: TLS verified against certifi's roots, the proxy the
environment names (`HTTPS_PROXY`, `NO_PROXY`...), gzip asked for and decoded, query and form values encoded as
httpx encoded them (`true`/`false` for booleans, repeated keys for lists), redirects not followed, no retries of
its own. A failure is a `TransportFailure` that says whether the request can have left this machine.
"""

from __future__ import annotations

import json as jsonlib
import urllib.request
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import urlencode, urlsplit

import certifi
import urllib3
from urllib3.exceptions import ConnectTimeoutError, EmptyPoolError, HTTPError, NewConnectionError

# Raised before a byte of the request was sent: a write may be sent again (NameResolutionError is a
# NewConnectionError).
NOT_SENT = (NewConnectionError, ConnectTimeoutError, EmptyPoolError)


class TransportFailure(Exception):
    """The call got no HTTP answer; `sent` is False only when the request certainly never left."""

    def __init__(self, kind: str, *, sent: bool) -> None:
        super().__init__(kind)
        self.kind = kind
        self.sent = sent


class Answer(NamedTuple):
    """An HTTP answer read whole; `headers` look up case-insensitively."""

    status: int
    reason: str
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def _value(value: Any) -> str:
    """A query or form value as httpx wrote it: JSON's spelling of booleans and null."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def encode_pairs(values: Mapping[str, Any]) -> str:
    """`key=value&...`, a list giving its key once per item."""
    pairs = [
        (key, _value(item))
        for key, value in values.items()
        for item in (value if isinstance(value, list | tuple) else [value])
    ]
    return urlencode(pairs)


def _pool(base_url: str, maxsize: int, timeout: float) -> urllib3.PoolManager:
    """A pool for the API host, through the proxy the environment names for it (as httpx's `trust_env` did)."""
    options: dict[str, Any] = {
        "maxsize": maxsize,
        "retries": False,
        "timeout": urllib3.Timeout(connect=timeout, read=timeout),
        "cert_reqs": "CERT_REQUIRED",
        "ca_certs": certifi.where(),
    }
    parts = urlsplit(base_url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        return urllib3.ProxyManager(proxy, **options)
    return urllib3.PoolManager(**options)


class Transport:
    """Requests to one API host over kept-alive connections (thread-safe: pages are fetched ahead)."""

    def __init__(self, base_url: str, headers: Mapping[str, str], *, timeout: float = 30.0, maxsize: int = 8) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"accept-encoding": "gzip", **headers}
        self._pool = _pool(self.base_url, maxsize, timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        url = self.base_url + path + (f"?{encode_pairs(params)}" if params else "")
        sending = {**self.headers, **(headers or {})}
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            sending["content-type"] = "application/json"
        elif data is not None:
            body = encode_pairs(data).encode()
            sending["content-type"] = "application/x-www-form-urlencoded"
        try:
            response = self._pool.urlopen(
                method, url, body=body, headers=sending, redirect=False, retries=False, preload_content=True
            )
        except NOT_SENT as exc:
            raise TransportFailure(type(exc).__name__, sent=False) from None
        except (HTTPError, OSError) as exc:  # reset, timeout or cut-short body after sending: it may have arrived
            raise TransportFailure(type(exc).__name__, sent=True) from None
        return Answer(response.status, response.reason or "", response.headers, response.data)

    def close(self) -> None:
        self._pool.clear()
