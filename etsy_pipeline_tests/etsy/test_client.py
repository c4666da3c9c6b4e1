from __future__ import annotations

import logging

import pytest

from etsy_pipeline.etsy.errors import EtsyClientError, EtsyServerError, NeedsReauthorization, QuotaExhausted
from etsy_pipeline.storage.repositories import Repositories
from etsy_pipeline_tests.etsy.conftest import Connected, connect


def test_calls_carry_the_key_and_the_bearer(connected: Connected) -> None:
    me = connected.client.get("/users/me", tokens=connected.tokens)
    assert me == {"user_id": connected.etsy_user_id, "shop_id": connected.shop_id}


def test_an_expired_token_is_refreshed_and_the_rotation_stored(connected: Connected, repos: Repositories) -> None:
    connected.client.get("/users/me", tokens=connected.tokens)
    before = repos.tokens.get(connected.user_id).refresh_token
    connected.admin("advance", hours=2)  # the emulator's clock moves; ours believes the token still valid
    assert connected.client.get("/users/me", tokens=connected.tokens)["shop_id"] == connected.shop_id
    after = repos.tokens.get(connected.user_id).refresh_token
    assert after != before
    emulator_view = connected.emulator.state.auth.current_refresh_token(connected.etsy_user_id)
    assert emulator_view == after  # the rotated token was stored, the old one is dead on Etsy's side
    assert connected.tokens.refreshes == 1


def test_a_revoked_token_marks_the_user_for_reauthorization(connected: Connected, repos: Repositories) -> None:
    connected.admin("revoke", user_id=connected.etsy_user_id)
    with pytest.raises(NeedsReauthorization, match="etsy-pipeline connect"):
        connected.client.get("/users/me", tokens=connected.tokens)
    assert repos.tokens.get(connected.user_id).status == "needs_reauth"


def test_server_errors_and_cut_bodies_are_retried(connected: Connected) -> None:
    connected.admin("faults", error_500_rate=0.1, error_503_rate=0.1, truncate_rate=0.1, seed=3)
    for _ in range(20):
        assert connected.client.get("/users/me", tokens=connected.tokens)["shop_id"] == connected.shop_id
    assert connected.client.retries > 0
    assert all(0 <= d <= 0.05 for d in connected.delays)  # full jitter under the cap


def test_429_bursts_honour_retry_after(connected: Connected) -> None:
    connected.admin("faults", burst_429_rate=1.0, burst_429_length=2)
    connected.admin("faults", burst_429_rate=0.0)  # the burst already begun still runs its course
    connected.emulator.state.faults._burst_left = 2
    assert connected.client.get("/openapi-ping")["application_id"]
    assert connected.delays.count(1.0) == 2  # retry-after: 1, twice


def test_client_errors_are_not_retried(connected: Connected) -> None:
    with pytest.raises(EtsyClientError) as excinfo:
        connected.client.get(f"/shops/{connected.shop_id}/receipts", tokens=connected.tokens, limit=500)
    assert excinfo.value.status == 400
    assert "limit" in str(excinfo.value)
    assert excinfo.value.request_id
    calls = connected.stats()["calls"]
    assert isinstance(calls, dict)
    assert calls["getShopReceipts"] == 1


def test_the_daily_quota_stops_the_run(emulator: object, repos: Repositories) -> None:
    from etsy_pipeline.emulator.server import BackgroundEmulator
    from etsy_pipeline.emulator.state import Config

    with BackgroundEmulator(Config(scale="tiny", qps=0, qpd=3)) as limited:
        conn = connect(limited, repos)
        for _ in range(3):
            conn.client.get("/openapi-ping")
        with pytest.raises(QuotaExhausted):
            conn.client.get("/openapi-ping")
        assert conn.client.calls <= 4  # no retries on a spent day


def test_retries_are_logged_with_the_request_id_and_no_secret(
    connected: Connected, caplog: pytest.LogCaptureFixture
) -> None:
    connected.admin("faults", error_503_rate=1.0)
    with caplog.at_level(logging.WARNING, logger="etsy_pipeline.etsy.client"), pytest.raises(EtsyServerError):
        connected.client.get("/users/me", tokens=connected.tokens)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "x-etsy-request-uuid" in text and "HTTP 503" in text
    secret = connected.client.http.headers["x-api-key"]
    assert secret.split(":")[1] not in text
    assert connected.tokens.access_token() not in text
