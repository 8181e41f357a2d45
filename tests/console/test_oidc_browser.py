"""Team mode end to end: a browser signs in to the console (served on loopback by uvicorn)
through the emulator's Entra ID (loopback HTTPS), with MSAL's real code path and nothing
faked but the people. Each role lands with its role; a person without one is refused; a
forged id token (bad signature, wrong audience, wrong nonce) signs nobody in."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import uvicorn

from mailwarden.console.app import build_console, create_app
from mailwarden.console.config import AuthMode, ConsoleConfig
from mailwarden.console.context import Console
from mailwarden.console.limits import RateLimiter
from mailwarden.console.oidc_pages import NO_ROLE
from mailwarden.emulator import EmulatorConfig, serve_in_thread
from mailwarden.emulator import create_app as emulator_app
from mailwarden.emulator.config import WebApp
from mailwarden.emulator.signing import IdTokenFault
from mailwarden.settings import Settings
from mailwarden.store import dispose_engines
from tests.emulator.emulator_helpers import small, tenant_id
from tests.support.chromium import launched_chromium

CLIENT = "0c0501e0-0000-4000-8000-00000000c0de"
SECRET_VARIABLE = "TEST_CONSOLE_APP_SECRET"
ROLES = {"viewer": "Console.Viewer", "responder": "Console.Responder",
         "approver": "Console.Approver", "admin": "Console.Admin"}
FORGED = {f"mallory-{f.value}@console.test": f for f in (
    IdTokenFault.BAD_SIGNATURE, IdTokenFault.WRONG_AUDIENCE, IdTokenFault.WRONG_NONCE)}

pytestmark = pytest.mark.slow


@dataclasses.dataclass(frozen=True, slots=True)
class Served:
    url: str
    console: Console


def _serve_console(console: Console, sock: socket.socket) -> tuple[uvicorn.Server, Any]:
    server = uvicorn.Server(uvicorn.Config(create_app(console), log_config=None,
                                           log_level="critical", access_log=False,
                                           lifespan="off", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the console did not start"
        time.sleep(0.01)
    return server, thread


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    assignments = {f"{name}@console.test": (value,) for name, value in ROLES.items()}
    web = WebApp(client_id=CLIENT, redirect_uris=(f"{url}/auth/callback",),
                 assignments=assignments)
    emulator = emulator_app(small().recorded, config=EmulatorConfig(
        web_apps=(web,), id_token_faults=FORGED))
    with serve_in_thread(emulator) as entra:
        settings = Settings(tenant=tenant_id(), login_url=entra.base_url, ca_bundle=entra.ca_file,
                            console_client_id=CLIENT, console_client_secret_env=SECRET_VARIABLE)
        db = tmp_path_factory.mktemp("console") / "history.db"
        console = build_console(
            ConsoleConfig(db_url=f"sqlite:///{db}", auth=AuthMode.ENTRA, port=port),
            settings=settings, env={SECRET_VARIABLE: "emulator-secret"})
        # Every sign-in here comes from 127.0.0.1: lift the per-address limit for the test.
        console = dataclasses.replace(console, limiter=RateLimiter(
            limit=10_000, window=timedelta(minutes=1), clock=console.clock))
        server, thread = _serve_console(console, sock)
        try:
            yield Served(url=url, console=console)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()
            dispose_engines()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launched_chromium()


def _sign_in(browser: Any, served: Served, login: str) -> tuple[Any, Any, list[str]]:
    """Sign `login` in from a fresh browser; the page where it ends, its context, and the
    script errors seen."""
    # The emulator's CA is made per run; the browser is told not to mind it.
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{served.url}/login?next=/")
    page.click("a[href^='/auth/signin']")
    page.wait_for_selector("input[name='login']")
    page.fill("input[name='login']", login)
    page.click("button[type='submit']")
    page.wait_for_url(f"{served.url}/**")
    page.wait_for_load_state()
    return page, context, errors


@pytest.mark.parametrize("role", sorted(ROLES))
def test_each_app_role_lands_in_the_console_with_its_role(
    browser: Any, served: Served, role: str
) -> None:
    page, context, errors = _sign_in(browser, served, f"{role}@console.test")
    try:
        page.wait_for_url(f"{served.url}/")
        assert page.locator(".who .role").inner_text() == role
        assert page.locator(".who").inner_text().startswith(role)  # the name claim
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["mailwarden_session"]["httpOnly"]
        assert "mailwarden_signin" not in cookies
        assert errors == []
    finally:
        context.close()


def test_a_person_without_a_console_role_is_refused_and_told_why(
    browser: Any, served: Served
) -> None:
    users = small().recorded.data["graph/users"]
    nobody = next(u for u in users if u.get("accountEnabled") is not False)
    page, context, _ = _sign_in(browser, served, nobody["userPrincipalName"])
    try:
        assert "/auth/callback" in page.url
        assert NO_ROLE in page.inner_text("main")
        assert "mailwarden_session" not in {c["name"] for c in context.cookies()}
        assert page.goto(f"{served.url}/").url.startswith(f"{served.url}/login")
    finally:
        context.close()
    refused = served.console.audit.entries(action="signin.entra")
    assert any(e.target == nobody["userPrincipalName"] and e.outcome.value == "refused"
               for e in refused)


@pytest.mark.parametrize(("login", "fault"), sorted(FORGED.items()))
def test_a_forged_id_token_signs_nobody_in(
    browser: Any, served: Served, login: str, fault: IdTokenFault
) -> None:
    page, context, _ = _sign_in(browser, served, login)
    try:
        assert "/auth/callback" in page.url
        text = page.inner_text("main")
        assert "Sign-in refused" in text
        expected = {IdTokenFault.BAD_SIGNATURE: "signature does not verify",
                    IdTokenFault.WRONG_AUDIENCE: "issued to another application",
                    IdTokenFault.WRONG_NONCE: "nonce"}[fault]
        assert expected in text
        assert "mailwarden_session" not in {c["name"] for c in context.cookies()}
    finally:
        context.close()
