"""Fixtures for the emulator: an in-process app over a fresh state, and an authorised client for a seller."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from etsy_pipeline.emulator.app import create_app
from etsy_pipeline.emulator.state import Config, EmulatorState

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@dataclass
class Seller:
    client: TestClient
    state: EmulatorState
    api_key: str
    keystring: str
    user_id: int
    shop_id: int
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"x-api-key": self.api_key, "authorization": f"Bearer {self.access_token}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/v3/application{path}", params=params, headers=self.headers)


def make_state(**overrides: Any) -> EmulatorState:
    defaults: dict[str, Any] = {"seed": 42, "scale": "small", "qps": 0, "qpd": 0, "frozen_clock": True}
    return EmulatorState(Config(**(defaults | overrides)))


def login(client: TestClient, state: EmulatorState, index: int = 0) -> Seller:
    credentials = client.get("/_emulator/credentials").json()
    user = credentials["users"][index]
    token = client.post(
        "/v3/public/oauth/token",
        data={
            "grant_type": "refresh_token",
            "client_id": credentials["keystring"],
            "refresh_token": user["refresh_token"],
        },
    ).json()
    return Seller(
        client,
        state,
        credentials["api_key"],
        credentials["keystring"],
        user["user_id"],
        user["shop_id"],
        token["access_token"],
        token["refresh_token"],
    )


@pytest.fixture
def state() -> EmulatorState:
    return make_state()


@pytest.fixture
def client(state: EmulatorState) -> Iterator[TestClient]:
    with TestClient(create_app(state), base_url="http://emulator.test") as client:
        yield client


@pytest.fixture
def seller(client: TestClient, state: EmulatorState) -> Seller:
    return login(client, state)
