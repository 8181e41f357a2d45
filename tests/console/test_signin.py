"""Local-mode sign-in, sessions, CSRF and the security headers, through the routes."""

from __future__ import annotations

from collections.abc import Callable

from mailwarden.console.roles import Principal
from mailwarden.console.web import CONTENT_SECURITY_POLICY, HTMX_FILE, HTMX_INTEGRITY
from tests.console.support import TOKEN, ConsoleClient

ClientOf = Callable[[Principal | None], ConsoleClient]


def test_anonymous_is_sent_to_sign_in_and_a_wrong_token_is_refused(client_of: ClientOf) -> None:
    client = client_of(None)
    response = client.get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/"
    assert client.get("/login?token=wrong").status_code == 403
    assert "set-cookie" not in client.get("/login?token=wrong").headers


def test_the_token_becomes_a_strict_http_only_cookie(client_of: ClientOf) -> None:
    client = client_of(None)
    response = client.get(f"/login?token={TOKEN}&next=/")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    assert TOKEN not in response.headers["location"]
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-store"


def test_an_offsite_next_is_ignored(client_of: ClientOf) -> None:
    client = client_of(None)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil"):
        response = client.get("/login", params={"token": TOKEN, "next": target})
        assert response.headers["location"] == "/"


def test_a_state_change_without_the_session_csrf_token_is_refused(client_of: ClientOf) -> None:
    client = client_of(None)
    client.get(f"/login?token={TOKEN}")
    client.get("/")
    assert client.post("/logout", {"csrf": "forged"}).status_code == 403
    assert client.post("/logout", csrf=False).status_code == 403
    foreign = client.post("/logout", headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert client.get("/").status_code == 200  # still signed in
    assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 303  # the session ended


def test_the_vendored_htmx_matches_its_integrity_hash(client_of: ClientOf) -> None:
    import base64
    import hashlib

    client = client_of(None)
    body = client.get(f"/static/{HTMX_FILE}").content
    digest = base64.b64encode(hashlib.sha384(body).digest()).decode()
    assert f"sha384-{digest}" == HTMX_INTEGRITY
