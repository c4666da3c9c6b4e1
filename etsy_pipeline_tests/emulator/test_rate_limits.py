from __future__ import annotations

from starlette.testclient import TestClient

from etsy_pipeline.emulator.app import create_app
from etsy_pipeline_tests.emulator.conftest import login, make_state


def test_headers_count_down_and_the_per_second_limit_answers_429() -> None:
    state = make_state(qps=3, qpd=1000)
    with TestClient(create_app(state), base_url="http://emulator.test") as client:
        seller = login(client, state)
        seller.client.post("/_emulator/reset")  # forget the calls login made
        seller = login(client, state)
        remaining = []
        for _ in range(3):
            response = seller.get("/openapi-ping")
            if response.status_code == 429:
                break
            remaining.append(int(response.headers["x-remaining-this-second"]))
            assert response.headers["x-limit-per-second"] == "3"
            assert response.headers["x-limit-per-day"] == "1000"
        limited = seller.get("/openapi-ping")
        assert limited.status_code == 429
        assert limited.json() == {"error": "Exceeded per second rate limit"}
        assert limited.headers["retry-after"] == "1"
        assert remaining == sorted(remaining, reverse=True)
        assert client.get("/_emulator/stats").json()["rate_limited"]["per_second"] >= 1


def test_the_daily_budget_rolls_with_simulated_time() -> None:
    state = make_state(qps=0, qpd=5)
    with TestClient(create_app(state), base_url="http://emulator.test") as client:
        seller = login(client, state)  # the token endpoint is not counted against the API budget
        today = [seller.get("/openapi-ping") for _ in range(5)]
        assert [int(r.headers["x-remaining-today"]) for r in today] == [4, 3, 2, 1, 0]
        spent = seller.get("/openapi-ping")
        assert spent.status_code == 429
        assert spent.json() == {"error": "Exceeded daily rate limit"}
        assert 0 < int(spent.headers["retry-after"]) <= 86_400 + 60
        client.post("/_emulator/advance", json={"hours": 25})
        seller = login(client, state)
        assert seller.get("/openapi-ping").status_code == 200


def test_zero_limits_mean_unlimited(seller: object) -> None:
    from etsy_pipeline_tests.emulator.conftest import Seller

    assert isinstance(seller, Seller)
    responses = [seller.get("/openapi-ping") for _ in range(50)]
    assert {r.status_code for r in responses} == {200}
    assert "x-limit-per-second" not in responses[0].headers
