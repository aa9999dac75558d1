"""hoidap.auth's rules as functions (the real server is tried in tests/test_server.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hoidap.auth import bearer_ok, check_bind, is_loopback, is_write, refusal
from hoidap.errors import UsageError
from hoidap.settings import Settings

TOKEN = "s3cret-token-0123456789"
GUARDED = Settings(token=TOKEN)


def hdr(value: str) -> list[tuple[bytes, bytes]]:
    return [(b"authorization", value.encode())]


@pytest.mark.parametrize(("headers", "ok"), [
    ([], False),
    (hdr(f"Bearer {TOKEN}"), True),
    (hdr(f"bearer {TOKEN}"), True),  # the scheme is case-insensitive (RFC 7235)
    (hdr(f"Basic {TOKEN}"), False),
    (hdr("Bearer " + TOKEN[:-1]), False),
    (hdr("Bearer " + TOKEN + "x"), False),
    (hdr(TOKEN), False),
    (hdr("Bearer"), False),
    (hdr(f"Bearer {TOKEN}") + hdr("Bearer wrong"), False),  # two headers: refused, whichever is right
])
def test_bearer_token_wrong_scheme_wrong_token_no_header(headers: list[tuple[bytes, bytes]], ok: bool) -> None:
    assert bearer_ok(headers, TOKEN) is ok


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/ingest"), ("POST", "/api/ingest/"), ("POST", "//api/ingest"), ("POST", "/api/ingest?token=" + TOKEN),
    ("DELETE", "/api/docs/abc"), ("HEAD", "/api/ingest"), ("OPTIONS", "/api/ingest"), ("GET", "/api/docs"),
    ("GET", "/metrics"), ("GET", "/static/../api/docs"), ("GET", "/static//api/docs"), ("POST", "/"),
    ("POST", "/api/ask"), ("PUT", "/healthz"),
])
def test_path_and_method_tricks_need_the_token(method: str, path: str) -> None:
    got = refusal(method, path, [], GUARDED)
    assert got is not None and got[0] == 401 and "Authorization: Bearer" in got[1]
    assert refusal(method, path, hdr(f"Bearer {TOKEN}"), GUARDED) is None


@pytest.mark.parametrize("path", ["/", "/healthz", "/docs", "/openapi.json", "/static/app.js"])
def test_the_page_and_liveness_are_open(path: str) -> None:
    assert refusal("GET", path, [], GUARDED) is None
    assert refusal("HEAD", path, [], GUARDED) is None


def test_read_only_refuses_every_write_even_with_the_token() -> None:
    ro = Settings(token=TOKEN, read_only=True)
    for method, path in [("POST", "/api/ingest"), ("DELETE", "/api/docs/x"), ("PUT", "/api/ask"), ("PATCH", "/x")]:
        assert is_write(method, path)
        got = refusal(method, path, hdr(f"Bearer {TOKEN}"), ro)
        assert got is not None and got[0] == 403 and "read-only" in got[1]
    for method, path in [("POST", "/api/ask"), ("POST", "/api/search"), ("POST", "/api/brief"), ("GET", "/api/docs")]:
        assert not is_write(method, path)
        assert refusal(method, path, hdr(f"Bearer {TOKEN}"), ro) is None


def test_no_token_only_loopback() -> None:
    open_settings = Settings(token=None)
    for host in ("127.0.0.1", "::1", "[::1]", "localhost", "127.0.0.2"):
        assert is_loopback(host)
        check_bind(host, open_settings)
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org"):
        assert not is_loopback(host)
        with pytest.raises(UsageError, match="without an API token"):
            check_bind(host, open_settings)
        check_bind(host, GUARDED)
    with pytest.raises(UsageError, match="at least 16 characters"):
        check_bind("0.0.0.0", Settings(token="short"))
    assert refusal("POST", "/api/ingest", [], open_settings) is None  # on loopback, no token: open as before


def test_token_is_never_in_the_settings_repr() -> None:
    assert TOKEN not in repr(GUARDED)


def test_serve_on_all_addresses_without_token_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if k != "HOIDAP_TOKEN"}
    proc = subprocess.run([sys.executable, "-m", "hoidap.cli", "serve", "--host", "0.0.0.0", "--index", "/nonexistent"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 2 and "without an API token" in proc.stderr, proc.stderr
