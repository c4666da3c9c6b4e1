"""The emulator as an ASGI app: Etsy's API under /v3/, the OAuth pages, and the admin API under /_emulator/.

Every /v3/application call goes through the same gate, in Etsy's order: the x-api-key, the rate limits (QPS
first, then QPD), injected faults, the OAuth bearer and its scopes, then the handler, and for a write the
`write_applied_error_rate` fault (the write stays applied, the answer is a 503). Responses carry Etsy's
rate-limit headers and an `x-etsy-request-uuid`.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route as StarletteRoute

from etsy_pipeline.emulator import admin
from etsy_pipeline.emulator.auth import require_scopes
from etsy_pipeline.emulator.errors import BadRequest, EtsyError, NotFound, OAuthError, TooManyRequests
from etsy_pipeline.emulator.handlers.base import Call
from etsy_pipeline.emulator.routes import ROUTES, Route
from etsy_pipeline.emulator.state import EmulatorState


@dataclass(frozen=True)
class CompiledRoute:
    route: Route
    pattern: re.Pattern[str]
    names: tuple[str, ...]


def _compile(route: Route) -> CompiledRoute:
    names = tuple(re.findall(r"{(\w+)}", route.full_path))
    pattern = re.compile("^" + re.sub(r"{(\w+)}", r"(?P<\1>[^/]+)", route.full_path) + "$")
    return CompiledRoute(route, pattern, names)


COMPILED = [_compile(r) for r in ROUTES]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status_code=status, headers=headers, media_type="application/json")


def error_response(exc: EtsyError, headers: dict[str, str] | None = None) -> Response:
    return json_response(exc.body(), exc.status, {**(headers or {}), **exc.headers})


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    path_matched = False
    for compiled in COMPILED:
        found = compiled.pattern.match(path)
        if found is None:
            continue
        path_matched = True
        if compiled.route.method == method:
            return compiled.route, found.groupdict()
    if path_matched:
        raise EtsyError(f"Method {method} is not allowed for {path}", status=405)
    return None


async def _body(request: Request, route: Route) -> tuple[dict[str, list[str]], Any]:
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if route.body == "json":
        if content_type != "application/json":
            raise BadRequest("Expected a request body of type application/json")
        try:
            return {}, orjson.loads(raw or b"null")
        except orjson.JSONDecodeError:
            raise BadRequest("The request body is not valid JSON") from None
    if route.body == "form":
        if raw and content_type not in ("application/x-www-form-urlencoded", ""):
            raise BadRequest("Expected a request body of type application/x-www-form-urlencoded")
        return parse_qs(raw.decode("utf-8"), keep_blank_values=True), None
    return {}, None


def _path_ints(values: dict[str, str]) -> dict[str, int]:
    out = {}
    for name, raw in values.items():
        if not raw.isdigit() or int(raw) < 1:
            raise BadRequest(f"Invalid value for {name}: '{raw}' is not a positive integer")
        out[name] = int(raw)
    return out


def api_endpoint(state: EmulatorState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        request_id = {"x-etsy-request-uuid": str(uuid.uuid4())}
        try:
            found = match(request.method, request.url.path)
        except EtsyError as exc:
            return error_response(exc, request_id)
        if found is None:
            return error_response(NotFound(f"Resource not found: {request.url.path}"), request_id)
        route, raw_path = found
        state.stats.calls[route.operation_id] += 1
        delay = state.faults.latency_seconds()
        if delay:
            await asyncio.sleep(delay)
        headers = dict(request_id)
        try:
            form, body = await _body(request, route)
            with state.lock:
                state.auth.check_api_key(request.headers.get("x-api-key"))
                if route.operation_id == state.faults.config.quota_ends_at:
                    state.limiter.spend_today()
                try:
                    headers.update(state.limiter.acquire())
                except TooManyRequests as exc:
                    state.stats.rate_limited["daily" if "daily" in exc.message else "per_second"] += 1
                    raise
                fault = state.faults.before_call()
                if fault is not None:
                    state.stats.faults[fault] += 1
                    if fault == "429":
                        state.stats.rate_limited["injected"] += 1
                        raise TooManyRequests("Exceeded per second rate limit", headers={"retry-after": "1"})
                    raise EtsyError(
                        "Internal Server Error" if fault == "500" else "Service Unavailable", status=int(fault)
                    )
                grant = None
                authorization = request.headers.get("authorization")
                if route.scopes or authorization:
                    grant = state.auth.bearer(authorization)
                    require_scopes(grant, route.scopes)
                call = Call(state, _path_ints(raw_path), dict(request.query_params), grant, form, body)
                result = route.handler(call)
                if route.is_write and state.faults.write_applied_error():
                    state.stats.faults["write_applied_503"] += 1
                    raise EtsyError("Service Unavailable", status=503)
        except EtsyError as exc:
            return error_response(exc, headers)
        payload = orjson.dumps(result)
        if state.faults.truncate():
            state.stats.faults["truncated"] += 1
            payload = payload[: max(1, len(payload) // 2)]
        return Response(payload, status_code=200, headers=headers, media_type="application/json")

    return endpoint


def authorize_endpoint(state: EmulatorState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        query = dict(request.query_params)
        with state.lock:
            email = query.get("login_email")
            owners = [state.world.users[s.user_id] for s in state.world.shops.values()]
            chosen = next((u for u in owners if u.email == email), None) if email else owners[0]
            if chosen is None:
                return error_response(EtsyError(f"No seller with e-mail {email} in this emulator"))
            try:
                location = state.auth.authorize(query, chosen.user_id)
            except EtsyError as exc:
                return error_response(exc)
        return RedirectResponse(location, status_code=302)

    return endpoint


def token_endpoint(state: EmulatorState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        raw = await request.body()
        content_type = request.headers.get("content-type", "")
        try:
            if content_type.startswith("application/json"):
                form = {k: str(v) for k, v in orjson.loads(raw or b"{}").items()}
            else:
                form = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8")).items()}
        except (orjson.JSONDecodeError, AttributeError):
            return error_response(OAuthError("invalid_request", "the body is not a valid form or JSON object"))
        with state.lock:
            state.stats.calls["oauthToken"] += 1
            fault = state.faults.before_call()
            if fault in ("500", "503"):  # Etsy's token endpoint is known to fail intermittently
                state.stats.faults[fault] += 1
                return error_response(EtsyError("Internal Server Error", status=int(fault)))
            try:
                return json_response(state.auth.token(form))
            except EtsyError as exc:
                return error_response(exc)

    return endpoint


def create_app(state: EmulatorState | None = None) -> Starlette:
    """The emulator app over `state` (a fresh one from the default config when not given)."""
    state = state or EmulatorState()
    api = api_endpoint(state)
    app = Starlette(
        routes=[
            StarletteRoute("/oauth/connect", authorize_endpoint(state), methods=["GET"]),
            StarletteRoute("/v3/public/oauth/token", token_endpoint(state), methods=["POST"]),
            *admin.routes(state),
            StarletteRoute("/v3/{rest:path}", api, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        ]
    )
    app.state.emulator = state
    return app
