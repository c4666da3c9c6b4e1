"""The client's HTTP layer: values encoded as Etsy reads them, and whether a failed write can have arrived."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from etsy_pipeline.etsy.client import EtsyClient, RetryPolicy, WriteOutcomeUnknown
from etsy_pipeline.etsy.errors import EtsyServerError
from etsy_pipeline.etsy.ratelimit import RateLimiter
from etsy_pipeline.etsy.transport import Transport, TransportFailure, encode_pairs
from etsy_pipeline_tests.etsy.conftest import Connected


def test_values_are_encoded_as_etsy_reads_them() -> None:
    assert encode_pairs({"is_supply": False, "taxonomy_id": 12, "tags": ["a b", "c&d"], "when": None}) == (
        "is_supply=false&taxonomy_id=12&tags=a+b&tags=c%26d&when="
    )


def test_query_values_reach_the_emulator(connected: Connected) -> None:
    page = connected.client.get(
        f"/shops/{connected.shop_id}/listings", tokens=connected.tokens, state="active", limit=2, includes="Images"
    )
    assert len(page["results"]) == 2
    assert all(listing["state"] == "active" and "images" in listing for listing in page["results"])


def _client(port: int) -> EtsyClient:
    limiter = RateLimiter(qps=0, qpd=0, app_key="transport-test", redis_url=None)
    return EtsyClient(
        base_url=f"http://127.0.0.1:{port}", keystring="k", shared_secret="s", limiter=limiter,
        retry=RetryPolicy(attempts=2, base_seconds=0.0, cap_seconds=0.0), sleep=lambda _: None, timeout=5,
    )  # fmt: skip


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


@pytest.fixture
def hanging_up() -> Iterator[int]:
    """A server that reads each request whole, then closes the connection without a word."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join()
    server.close()


def test_a_connection_never_opened_is_a_write_that_was_not_sent(closed_port: int) -> None:
    with pytest.raises(TransportFailure) as failure:
        Transport(f"http://127.0.0.1:{closed_port}", {}).request("PUT", "/x", json={"a": 1})
    assert failure.value.sent is False
    client = _client(closed_port)
    with pytest.raises(EtsyServerError, match="failed after 2 attempts"):  # sent again: it never left
        client.request("PUT", "/listings/1/inventory", json={"products": []}, write=True)
    assert client.calls == 2


def test_a_connection_dropped_after_sending_leaves_the_write_unknown(hanging_up: int) -> None:
    with pytest.raises(TransportFailure) as failure:
        Transport(f"http://127.0.0.1:{hanging_up}", {}).request("GET", "/x")
    assert failure.value.sent is True
    client = _client(hanging_up)
    with pytest.raises(WriteOutcomeUnknown):  # never sent twice: Etsy may have applied it
        client.request("PUT", "/listings/1/inventory", json={"products": []}, write=True)
    assert client.calls == 1
    with pytest.raises(EtsyServerError):  # a read is retried
        client.get("/users/me")
    assert client.calls == 3


def test_the_environments_proxy_is_used_unless_the_host_is_excluded(
    connected: Connected, closed_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{closed_port}")  # a proxy that is not there
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(TransportFailure):
        Transport(connected.emulator.url, {}).request("GET", "/_emulator/credentials")
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.setenv(name, "127.0.0.1")
    assert Transport(connected.emulator.url, {}).request("GET", "/_emulator/credentials").status == 200
