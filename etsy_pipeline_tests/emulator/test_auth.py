from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlparse

from starlette.testclient import TestClient

from etsy_pipeline.emulator.state import EmulatorState
from etsy_pipeline_tests.emulator.conftest import Seller, login

REDIRECT = "http://127.0.0.1:5555/callback"


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def _exchange(client: TestClient, keystring: str, code: str, verifier: str) -> Any:
    return client.post(
        "/v3/public/oauth/token",
        data={
            "grant_type": "authorization_code",
            "client_id": keystring,
            "redirect_uri": REDIRECT,
            "code": code,
            "code_verifier": verifier,
        },
    )


def _authorize(client: TestClient, keystring: str, challenge: str, **extra: str) -> dict[str, str]:
    response = client.get(
        "/oauth/connect",
        params={
            "response_type": "code",
            "client_id": keystring,
            "redirect_uri": REDIRECT,
            "scope": "listings_r transactions_r shops_r",
            "state": "xyz-state",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            **extra,
        },
        follow_redirects=False,
    )
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT)
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def test_api_key_must_carry_the_shared_secret(seller: Seller) -> None:
    ping = "/v3/application/openapi-ping"
    assert seller.client.get(ping, headers={"x-api-key": seller.api_key}).status_code == 200
    bare = seller.client.get(ping, headers={"x-api-key": seller.keystring})
    assert bare.status_code == 403
    assert bare.json() == {"error": "Shared secret is required in x-api-key header"}
    assert seller.client.get(ping, headers={"x-api-key": f"{seller.keystring}:wrong"}).status_code == 403
    assert seller.client.get(ping).status_code == 403


def test_authorization_code_flow_with_pkce(client: TestClient, seller: Seller) -> None:
    verifier, challenge = _pkce()
    redirect = _authorize(client, seller.keystring, challenge)
    assert redirect["state"] == "xyz-state"
    form = {
        "grant_type": "authorization_code",
        "client_id": seller.keystring,
        "redirect_uri": REDIRECT,
        "code": redirect["code"],
        "code_verifier": verifier,
    }
    token = client.post("/v3/public/oauth/token", data=form)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["access_token"].split(".")[0] == str(seller.user_id)
    me = client.get(
        "/v3/application/users/me",
        headers={"x-api-key": seller.api_key, "authorization": f"Bearer {body['access_token']}"},
    )
    assert me.json() == {"user_id": seller.user_id, "shop_id": seller.shop_id}
    again = client.post("/v3/public/oauth/token", data=form)  # codes are single-use
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_wrong_code_verifier_is_refused(client: TestClient, seller: Seller) -> None:
    _, challenge = _pkce()
    other_verifier, _ = _pkce()
    code = _authorize(client, seller.keystring, challenge)["code"]
    response = _exchange(client, seller.keystring, code, other_verifier)
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier does not match the code_challenge",
    }


def test_authorize_refuses_plain_pkce_and_unknown_clients(client: TestClient, seller: Seller) -> None:
    base = {
        "response_type": "code",
        "client_id": seller.keystring,
        "redirect_uri": REDIRECT,
        "state": "s",
        "code_challenge": "abc",
        "scope": "listings_r",
    }
    plain = client.get("/oauth/connect", params=base | {"code_challenge_method": "plain"}, follow_redirects=False)
    assert plain.status_code == 400
    wrong = client.get(
        "/oauth/connect", params=base | {"code_challenge_method": "S256", "client_id": "nope"}, follow_redirects=False
    )
    assert wrong.status_code == 400 and wrong.json() == {"error": "Invalid client_id"}


def test_access_tokens_expire_after_an_hour_of_simulated_time(seller: Seller) -> None:
    assert seller.get("/users/me").status_code == 200
    seller.client.post("/_emulator/advance", json={"hours": 1})
    expired = seller.get("/users/me")
    assert expired.status_code == 401
    assert expired.json() == {"error": "invalid_token", "error_description": "access token is expired"}


def test_refresh_rotates_the_refresh_token(client: TestClient, state: EmulatorState, seller: Seller) -> None:
    form = {"grant_type": "refresh_token", "client_id": seller.keystring, "refresh_token": seller.refresh_token}
    first = client.post("/v3/public/oauth/token", data=form)
    assert first.status_code == 200
    new_refresh = first.json()["refresh_token"]
    assert new_refresh != seller.refresh_token
    reused = client.post("/v3/public/oauth/token", data=form)
    assert reused.status_code == 400
    assert reused.json() == {"error": "invalid_grant", "error_description": "refresh_token is revoked"}
    credentials = client.get("/_emulator/credentials").json()
    assert credentials["users"][0]["refresh_token"] == new_refresh  # the admin API shows the current one
    json_body = client.post("/v3/public/oauth/token", json=form | {"refresh_token": new_refresh})
    assert json_body.status_code == 200  # Etsy accepts JSON bodies at the token endpoint too


def test_revocation_kills_access_and_refresh_tokens(client: TestClient, seller: Seller) -> None:
    assert client.post("/_emulator/revoke", json={"user_id": seller.user_id}).json()["revoked_tokens"] >= 2
    assert seller.get("/users/me").status_code == 401
    refreshed = client.post(
        "/v3/public/oauth/token",
        data={"grant_type": "refresh_token", "client_id": seller.keystring, "refresh_token": seller.refresh_token},
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_scopes_are_checked_per_operation(client: TestClient, seller: Seller) -> None:
    verifier, challenge = _pkce()
    code = _authorize(client, seller.keystring, challenge)["code"]  # listings_r transactions_r shops_r only
    token = _exchange(client, seller.keystring, code, verifier).json()["access_token"]
    headers = {"x-api-key": seller.api_key, "authorization": f"Bearer {token}"}
    assert client.get(f"/v3/application/shops/{seller.shop_id}/receipts", headers=headers).status_code == 200
    listing = next(iter(seller.state.world.listings))
    write = client.put(f"/v3/application/listings/{listing}/inventory", json={"products": []}, headers=headers)
    assert write.status_code == 403
    assert "listings_w" in write.json()["error"]


def test_missing_token_is_401_and_someone_elses_shop_is_403() -> None:
    from etsy_pipeline.emulator.app import create_app
    from etsy_pipeline_tests.emulator.conftest import make_state

    state = make_state(scale="medium")
    with TestClient(create_app(state), base_url="http://emulator.test") as client:
        first, second = login(client, state, 0), login(client, state, 1)
        no_token = client.get(f"/v3/application/shops/{first.shop_id}/receipts", headers={"x-api-key": first.api_key})
        assert no_token.status_code == 401
        assert second.get(f"/shops/{first.shop_id}/receipts").status_code == 403
        assert second.get(f"/shops/{first.shop_id}").status_code == 200  # public shop data
