"""Who may call the HTTP API (``hoidap serve``): the access rules, in one place.

- Without a token (``Settings.token``) the server listens only on a loopback address
  (``check_bind``): ``--host 0.0.0.0`` without one is refused before anything starts.
- With a token, every request that is not one of the few open ones (the page, its static
  files, the API docs, ``/healthz``) needs ``Authorization: Bearer TOKEN``, compared in
  constant time. Default deny: a route added later (``DELETE /api/docs/{id}``), an odd
  spelling of a path (``//api/ingest``, ``/api/ingest/``, percent-encoded) or an odd method
  (HEAD, OPTIONS) is guarded too, because only the open list is spelled out. The token is
  never read from the query string (it would end up in logs and browser history).
- ``Settings.read_only``: every write (any method but GET and HEAD, except the POST routes
  that only read) answers 403, whoever asks.

Each refusal is JSON ``{"status", "error", "message"}``, as the server's other errors.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from http import HTTPStatus

from starlette.types import ASGIApp, Receive, Scope, Send

from hoidap.errors import UsageError
from hoidap.settings import Settings

# Open to anyone who reaches the port (GET and HEAD only): the page and what it loads, the API
# docs, and the liveness check (load balancers probe it without credentials).
OPEN_PATHS = frozenset({"/", "/healthz", "/docs", "/openapi.json"})
OPEN_PREFIXES = ("/static/", "/docs-assets/")
SAFE_METHODS = frozenset({"GET", "HEAD"})
# POST routes that only read (a JSON body is easier than a query string for a list of questions).
READ_POSTS = frozenset({"/api/ask", "/api/search", "/api/brief"})
# A token shorter than this is refused: 16 random characters are ~95 bits, beyond guessing
# over HTTP; "secret" is not.
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:  # a host name: it may resolve to any address
        return False


def check_token(token: str) -> str:
    """The token as given, if it can serve as one."""
    if len(token) < MIN_TOKEN_CHARS or any(c.isspace() for c in token):
        raise UsageError(f"the API token must be at least {MIN_TOKEN_CHARS} characters, without spaces "
                         "(make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return token


def check_bind(host: str, settings: Settings) -> None:
    """Refuse to listen beyond this machine without a token."""
    if settings.token is None and not is_loopback(host):
        raise UsageError(f"refusing to listen on {host} without an API token: anyone who can reach the port "
                         "could upload; give --token-file FILE or set $HOIDAP_TOKEN (or listen on 127.0.0.1)")
    if settings.token is not None:
        check_token(settings.token)


def is_open(method: str, path: str) -> bool:
    return method in SAFE_METHODS and (
        path in OPEN_PATHS or (path.startswith(OPEN_PREFIXES) and ".." not in path and "//" not in path))


def is_write(method: str, path: str) -> bool:
    """Whether a request may change the collection: any method but GET and HEAD, except the read POSTs."""
    return method not in SAFE_METHODS and not (method == "POST" and path in READ_POSTS)


def bearer_ok(headers: list[tuple[bytes, bytes]], token: str) -> bool:
    """Exactly one ``Authorization: Bearer <token>`` header carrying the token (constant-time compare)."""
    values = [v for k, v in headers if k.lower() == b"authorization"]
    if len(values) != 1:
        return False
    scheme, _, credential = values[0].decode("latin-1").strip().partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credential.strip().encode("latin-1"),
                                                              token.encode("utf-8"))


def refusal(method: str, path: str, headers: list[tuple[bytes, bytes]],
            settings: Settings) -> tuple[int, str] | None:
    """(status, message) when the request may not go on; None when it may."""
    if settings.read_only and is_write(method, path):
        return 403, "this server is read-only: it answers questions, it does not take uploads or changes"
    if settings.token is not None and not is_open(method, path) and not bearer_ok(headers, settings.token):
        return 401, "this API needs a token: send the header 'Authorization: Bearer TOKEN'"
    return None


class Guard:
    """ASGI middleware applying ``refusal`` to every HTTP request before any route sees it."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = refusal(scope["method"], scope["path"], scope["headers"], self.settings)
            if refused is not None:
                await _send_json(send, *refused)
                return
        await self.app(scope, receive, send)


async def _send_json(send: Send, status: int, message: str) -> None:
    body = json.dumps({"status": status, "error": HTTPStatus(status).phrase, "message": message},
                      ensure_ascii=False).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="hoidap"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
