from __future__ import annotations

import json

import pytest
from starlette.testclient import TestClient

from etsy_pipeline.emulator.app import create_app
from etsy_pipeline.emulator.generator import generate
from etsy_pipeline_tests.emulator.conftest import Seller, login, make_state


def _snapshot(seed: int) -> str:
    state = make_state(seed=seed)
    with TestClient(create_app(state), base_url="http://emulator.test") as client:
        seller = login(client, state)
        receipts = seller.get(f"/shops/{seller.shop_id}/receipts", limit=100, sort_order="asc").json()
        listings = seller.get(f"/shops/{seller.shop_id}/listings", limit=100, includes="Images,Inventory").json()
        client.post("/_emulator/advance", json={"hours": 48})
        seller = login(client, state)
        later = seller.get(f"/shops/{seller.shop_id}/receipts", limit=100).json()
        now = state.clock.now()
        ledger = seller.get(
            f"/shops/{seller.shop_id}/payment-account/ledger-entries", min_created=now - 30 * 86_400, max_created=now
        ).json()
    return json.dumps([receipts, listings, later, ledger], sort_keys=True)


def test_same_seed_same_data_and_activity() -> None:
    assert _snapshot(7) == _snapshot(7)
    assert _snapshot(7) != _snapshot(8)


def test_data_has_what_a_pipeline_must_handle() -> None:
    world = generate(42, "medium")
    assert {s.currency.code: s.currency.divisor for s in world.shops.values()} == {"USD": 100, "EUR": 100, "JPY": 1}
    receipts = list(world.receipts.values())
    buyers = [r.buyer_user_id for r in receipts]
    repeat_share = 1 - len(set(buyers)) / len(buyers)
    assert 0.2 < repeat_share < 0.5  # repeat buyers exist, but most buyers buy once
    assert any(r.is_gift for r in receipts) and any(r.discount for r in receipts)
    assert {"canceled", "completed", "fully refunded", "partially refunded"} <= {r.status for r in receipts}
    assert any(any(ord(ch) > 127 for ch in x.title) for x in world.listings.values())
    by_month: dict[int, int] = {}
    for r in receipts:
        month = (r.created // 86_400 // 30) % 12
        by_month[month] = by_month.get(month, 0) + 1
    assert max(by_month.values()) > 1.3 * min(by_month.values())  # seasonality


def test_injected_server_errors_and_bursts(seller: Seller) -> None:
    seller.client.post("/_emulator/faults", json={"error_503_rate": 1.0})
    assert seller.get("/openapi-ping").status_code == 503
    seller.client.post("/_emulator/faults", json={"error_503_rate": 0.0, "burst_429_rate": 1.0, "burst_429_length": 3})
    assert [seller.get("/openapi-ping").status_code for _ in range(3)] == [429, 429, 429]
    seller.client.post("/_emulator/faults", json={"burst_429_rate": 0.0})
    assert seller.get("/openapi-ping").status_code == 200
    stats = seller.client.get("/_emulator/stats").json()
    assert stats["faults"]["503"] == 1 and stats["rate_limited"]["injected"] == 3


def test_faults_are_deterministic_under_their_seed(seller: Seller) -> None:
    def run() -> list[int]:
        seller.client.post("/_emulator/faults", json={"error_500_rate": 0.3, "seed": 5})
        return [seller.get("/openapi-ping").status_code for _ in range(30)]

    first = run()
    assert 500 in first and 200 in first
    assert run() == first


def test_truncated_bodies_and_bad_records(seller: Seller) -> None:
    seller.client.post("/_emulator/faults", json={"truncate_rate": 1.0})
    body = seller.get(f"/shops/{seller.shop_id}/receipts").text
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    seller.client.post("/_emulator/faults", json={"truncate_rate": 0.0, "bad_record_rate": 0.5, "seed": 1})
    results = seller.get(f"/shops/{seller.shop_id}/receipts", limit=100).json()["results"]
    damaged = [
        r
        for r in results
        if len(r) < 40 or any(isinstance(v, str) and v.startswith("not-a-number") for v in r.values())
    ]
    assert 20 < len(damaged) < 80


def test_bad_fault_settings_are_refused(seller: Seller) -> None:
    response = seller.client.post("/_emulator/faults", json={"error_500_rate": 2})
    assert response.status_code == 400
    assert response.json() == {"error": "fault setting 'error_500_rate' must be a number from 0 to 1, got 2"}
    assert seller.client.post("/_emulator/faults", json={"explode": 1}).status_code == 400
    assert seller.client.post("/_emulator/advance", json={"hours": -1}).status_code == 400
