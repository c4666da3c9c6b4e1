"""`etsy-pipeline connect`: the OAuth 2.0 PKCE flow with a loopback redirect, then the user and shop recorded.

The authorize URL is printed (and opened in a browser when one is available). The code arrives on a one-shot
HTTP server on 127.0.0.1; it is exchanged with the PKCE verifier, the tokens are stored encrypted, and the
user's Etsy user and shop are read (`getMe`, `getShop`) and recorded. Against the emulator the authorize page
approves by itself, so the flow completes without a browser.

The user is the Etsy account that authorized (`getMe`'s `user_id`), never the e-mail typed on the command line:
an e-mail that belongs to another account's user is refused before anything is stored. An authorization that
fails (refused by Etsy, an unknown seller on the emulator) ends the command at once, not after the timeout.
"""

from __future__ import annotations

import http.server
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import httpx

from etsy_pipeline.etsy.auth import READ_SCOPES, WRITE_SCOPES, TokenManager, Tokens, pkce_pair
from etsy_pipeline.etsy.errors import EtsyError
from etsy_pipeline.runtime import Runtime
from etsy_pipeline.sync.clients import EtsyAccess

ETSY_AUTHORIZE_HOST = "www.etsy.com"


class AuthorizationFailed(EtsyError, ValueError):
    """Etsy did not authorize (or the answer could not be trusted); a ValueError so the CLI prints one line."""


@dataclass(frozen=True)
class Connected:
    user_id: int
    shop_id: int
    etsy_user_id: int
    etsy_shop_id: int
    shop_name: str
    email: str


class _MemoryStore:
    """Holds the fresh tokens for the first calls, before the user row they belong to exists."""

    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens

    def load(self, user_id: int) -> Tokens:
        return self.tokens

    def save(self, user_id: int, tokens: Tokens) -> None:
        self.tokens = tokens

    def mark_needs_reauth(self, user_id: int, reason: str) -> None:
        raise EtsyError(f"the new Etsy authorization was refused: {reason}")


def _callback_server(port: int) -> tuple[http.server.HTTPServer, dict[str, str]]:
    received: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            received.update(query)
            ok = "code" in query
            self.send_response(200 if ok else 400)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.end_headers()
            message = "etsy-pipeline is connected; you can close this tab." if ok else "Etsy did not approve."
            self.wfile.write(message.encode())

        def log_message(self, *args: object) -> None:  # keep the code out of any log
            return

    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    return server, received


def _approve_on_emulator(url: str, redirect_uri: str, received: dict[str, str]) -> None:
    """Follow the emulator's authorize page; if it refuses (no redirect), release the waiting callback at once."""
    response = httpx.get(url, follow_redirects=True, timeout=30)
    if received or response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    reason = f"HTTP {response.status_code}"
    if isinstance(body, dict) and (body.get("error_description") or body.get("error")):
        reason = str(body.get("error_description") or body.get("error"))
    # The callback thread waits for one request: send it the refusal instead of letting it wait out the timeout.
    httpx.get(redirect_uri, params={"error": "access_denied", "error_description": reason}, timeout=30)


def authorize(
    access: EtsyAccess,
    *,
    port: int = 0,
    email: str | None = None,
    write: bool = True,
    announce: Callable[[str], None] = print,
    timeout: float = 300.0,
) -> Tokens:
    """Run the PKCE flow and return the tokens (nothing is stored yet)."""
    server, received = _callback_server(port)
    redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    scopes = [*READ_SCOPES, *(WRITE_SCOPES if write else ())]
    emulated = urlparse(access.oauth.authorize_base).hostname != ETSY_AUTHORIZE_HOST
    extra = {"login_email": email} if email and emulated else {}  # the emulator's way to pick the seller
    url = access.oauth.authorize_url(
        redirect_uri=redirect_uri, scopes=scopes, state=state, challenge=challenge, **extra
    )
    announce(f"Open this URL to authorize etsy-pipeline:\n{url}")
    thread = threading.Thread(target=server.handle_request, daemon=True)
    server.timeout = timeout
    thread.start()
    if emulated:  # the emulator's authorize page approves by itself
        _approve_on_emulator(url, redirect_uri, received)
    else:
        import webbrowser

        webbrowser.open(url)
    thread.join(timeout)
    server.server_close()
    if "error" in received:
        detail = received.get("error_description") or received["error"]
        raise AuthorizationFailed(f"Etsy did not authorize etsy-pipeline: {detail[:300]}")
    if received.get("state") != state or "code" not in received:
        raise AuthorizationFailed("no authorization came back (denied, timed out, or the state did not match)")
    return access.oauth.exchange_code(
        code=received["code"], verifier=verifier, redirect_uri=redirect_uri, scopes=scopes
    )


def record_connection(runtime: Runtime, access: EtsyAccess, tokens: Tokens, email: str | None = None) -> Connected:
    """Read who authorized (getMe, getShop) and store the user, the encrypted tokens and the shop."""
    manager = TokenManager(0, _MemoryStore(tokens), access.oauth)
    me = access.client.get("/users/me", tokens=manager)
    etsy_user_id, etsy_shop_id = int(me["user_id"]), int(me["shop_id"])
    shop = access.client.get(f"/shops/{etsy_shop_id}", tokens=manager)
    final = manager.store.load(0)  # the pair after any refresh during these calls
    user = runtime.repos.users.for_etsy_account(etsy_user_id, email)  # refuses another account's e-mail
    access.store.save(user.id, final)
    found = runtime.repos.shops.get_by_etsy_id(user.id, etsy_shop_id) or runtime.repos.shops.create(
        user.id,
        etsy_shop_id=etsy_shop_id,
        shop_name=str(shop["shop_name"]),
        title=shop.get("title"),
        currency_code=shop.get("currency_code"),
        url=shop.get("url"),
        etsy_user_id=etsy_user_id,
    )
    return Connected(user.id, found.id, etsy_user_id, etsy_shop_id, found.shop_name, user.email)
