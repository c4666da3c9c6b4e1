from __future__ import annotations

import httpx

from etsy_pipeline.emulator.server import BackgroundEmulator
from etsy_pipeline.emulator.state import Config


def test_background_server_answers_over_real_http() -> None:
    with BackgroundEmulator(Config(scale="tiny", qps=5, qpd=100)) as emulator:
        credentials = httpx.get(f"{emulator.url}/_emulator/credentials").json()
        response = httpx.get(
            f"{emulator.url}/v3/application/openapi-ping", headers={"x-api-key": credentials["api_key"]}
        )
        assert response.status_code == 200
        assert response.json() == {"application_id": 1234567}
        assert response.headers["x-remaining-today"] == "99"
        assert response.headers["x-etsy-request-uuid"]
