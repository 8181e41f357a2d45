"""Team mode sign-in without a browser: its settings, the flows under way, and the
callback's refusals, against the emulator's Entra ID on loopback HTTPS (MSAL's real path)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mailwarden.console.app import build_console, create_app
from mailwarden.console.config import AuthMode, ConsoleConfig
from mailwarden.console.oidc import FlowStore, entra_settings
from mailwarden.console.oidc_pages import FLOW_COOKIE
from mailwarden.console.signin import safe_next
from mailwarden.emulator import EmulatorConfig, Served, serve_in_thread
from mailwarden.emulator import create_app as emulator_app
from mailwarden.emulator.config import WebApp
from mailwarden.errors import ConfigError
from mailwarden.settings import Settings, load_settings
from mailwarden.store import dispose_engines
from tests.console.support import BASE_URL, ConsoleClient, console_for
from tests.emulator.emulator_helpers import small, tenant_id
from tests.m365.test_auth import write_certificate

CLIENT = "0c0501e0-0000-4000-8000-00000000c0de"
SECRET = "TEST_CONSOLE_APP_SECRET"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_a_flow_is_taken_once_and_only_while_it_is_fresh() -> None:
    clock = Clock()
    flows = FlowStore(clock=clock, limit=3)
    first = flows.put({"state": "a"}, "/")
    assert flows.take(first) is not None and flows.take(first) is None
    late = flows.put({"state": "b"}, "/")
    clock.now += timedelta(minutes=10)
    assert flows.take(late) is None
    keys = [flows.put({"state": str(n)}, "/") for n in range(4)]
    assert flows.take(keys[0]) is None  # the oldest gave way
    assert all(flows.take(k) is not None for k in keys[1:])


def _settings(**changes: Any) -> Settings:
    values: dict[str, Any] = {"tenant": "contoso.onmicrosoft.com", "console_client_id": CLIENT,
                              "console_client_secret_env": SECRET}
    values.update(changes)
    return Settings(**values)


def test_team_mode_settings_name_the_credential_and_never_hold_it_in_files() -> None:
    resolved = entra_settings(_settings(), base_url="https://console.contoso.test/",
                              env={SECRET: "s3cr3t-value"})
    assert resolved.authority == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    assert resolved.redirect_uri == "https://console.contoso.test/auth/callback"
    assert resolved.custom_login is False and "s3cr3t-value" not in repr(resolved)
    with pytest.raises(ConfigError, match=SECRET):
        entra_settings(_settings(), base_url=BASE_URL, env={})
    with pytest.raises(ConfigError, match="console_client_id"):
        entra_settings(_settings(console_client_id=None), base_url=BASE_URL, env={})
    with pytest.raises(ConfigError, match="console_certificate_path"):
        entra_settings(_settings(console_client_secret_env=None), base_url=BASE_URL, env={})


def test_a_secret_given_where_its_variables_name_belongs_is_refused_unrepeated() -> None:
    pasted = "Xy7~Q8r.secret-value-from-the-portal"
    with pytest.raises(ConfigError) as refused:
        load_settings(env={"MAILWARDEN_CONSOLE_CLIENT_SECRET_ENV": pasted})
    assert pasted not in str(refused.value) and "NAME" in str(refused.value)
    named = load_settings(env={"MAILWARDEN_CONSOLE_CLIENT_SECRET_ENV": "MY_SECRET",
                               "MAILWARDEN_CONSOLE_CLIENT_ID": CLIENT})
    assert named.console_client_secret_env == "MY_SECRET" and named.console_client_id == CLIENT


@pytest.fixture(scope="module")
def entra() -> Iterator[Served]:
    web = WebApp(client_id=CLIENT, redirect_uris=(f"{BASE_URL}/auth/callback",),
                 assignments={"ada@console.test": ("Console.Responder",)})
    app = emulator_app(small().recorded, config=EmulatorConfig(web_apps=(web,)))
    with serve_in_thread(app) as served:
        yield served


@pytest.fixture
def team(entra: Served, tmp_path: Path) -> Iterator[ConsoleClient]:
    settings = Settings(tenant=tenant_id(), login_url=entra.base_url, ca_bundle=entra.ca_file,
                        console_client_id=CLIENT, console_client_secret_env=SECRET)
    console = build_console(ConsoleConfig(db_url=f"sqlite:///{tmp_path / 'h.db'}",
                                          auth=AuthMode.ENTRA),
                            settings=settings, env={SECRET: "emulator-secret"})
    client = ConsoleClient(create_app(console))
    yield client
    client.close()
    dispose_engines()


def _leave(team: ConsoleClient) -> dict[str, str]:
    """Start a sign-in; the authorization request's parameters."""
    response = team.get("/auth/signin?next=/")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith(f"{FLOW_COOKIE}=") and "httponly" in cookie
    assert "samesite=lax" in cookie
    return {k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()}


def _code_for(entra: Served, sent: dict[str, str], login: str) -> str:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(entra.ca_file)),
                      trust_env=False) as client:
        answer = client.post(f"{entra.base_url}/{tenant_id()}/oauth2/v2.0/authorize",
                             params=sent, data={"login": login})
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def test_the_authorization_request_carries_pkce_state_and_nonce(team: ConsoleClient) -> None:
    sent = _leave(team)
    assert sent["client_id"] == CLIENT and sent["response_type"] == "code"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    assert sent["state"] and sent["nonce"] and "openid" in sent["scope"].split()
    assert sent["redirect_uri"] == f"{BASE_URL}/auth/callback"


def test_a_good_answer_signs_in_once_and_a_replay_is_refused(
    team: ConsoleClient, entra: Served
) -> None:
    sent = _leave(team)
    code = _code_for(entra, sent, "ada@console.test")
    back = f"/auth/callback?code={code}&state={sent['state']}"
    landed = team.get(back)
    assert landed.status_code == 200 and "url=/" in landed.text
    assert "mailwarden_session=" in landed.headers.get("set-cookie", "")
    home = team.get("/")
    assert home.status_code == 200 and "responder" in home.text
    replay = team.get(back)
    assert replay.status_code == 400 and "expired" in replay.text


def test_an_answer_for_another_sign_in_or_a_refusal_signs_nobody_in(
    team: ConsoleClient, entra: Served
) -> None:
    sent = _leave(team)
    code = _code_for(entra, sent, "ada@console.test")
    forged = team.get(f"/auth/callback?code={code}&state=someone-elses")
    assert forged.status_code == 403 and "does not belong to this sign-in" in forged.text
    _leave(team)
    denied = team.get("/auth/callback?error=access_denied&error_description=AADSTS65004:"
                      "+User+declined+to+consent&state=x")
    assert denied.status_code == 403 and "AADSTS65004" in denied.text
    team.client.cookies.clear()
    stray = team.get(f"/auth/callback?code={code}&state={sent['state']}")
    assert stray.status_code == 400 and "another browser" in stray.text
    assert team.get("/").status_code == 303


def test_a_local_console_has_no_entra_sign_in(tmp_path: Path) -> None:
    console = console_for(f"sqlite:///{tmp_path / 'h.db'}")
    client = ConsoleClient(create_app(console))
    try:
        assert client.get("/auth/signin").status_code == 404
        assert client.get("/auth/callback?code=x&state=y").status_code == 404
    finally:
        client.close()
        dispose_engines()


def test_a_certificate_credential_redeems_the_code_too(entra: Served, tmp_path: Path) -> None:
    write_certificate(tmp_path / "console.pem")
    settings = Settings(tenant=tenant_id(), login_url=entra.base_url, ca_bundle=entra.ca_file,
                        console_client_id=CLIENT, console_certificate_path=tmp_path / "console.pem")
    console = build_console(ConsoleConfig(db_url=f"sqlite:///{tmp_path / 'h.db'}",
                                          auth=AuthMode.ENTRA), settings=settings, env={})
    assert console.entra is not None and console.entra.settings.certificate is not None
    client = ConsoleClient(create_app(console))
    try:
        sent = _leave(client)
        code = _code_for(entra, sent, "ada@console.test")
        assert client.get(f"/auth/callback?code={code}&state={sent['state']}").status_code == 200
        assert "responder" in client.get("/").text
    finally:
        client.close()
        dispose_engines()


def test_a_next_path_with_control_characters_goes_home() -> None:
    assert safe_next("/\t/evil.example") == "/" and safe_next("/\n/evil.example") == "/"
    assert safe_next("/incidents?state=open") == "/incidents?state=open"


def test_signing_in_again_ends_the_browsers_earlier_session(
    team: ConsoleClient, entra: Served
) -> None:
    values = []
    for _ in range(2):
        sent = _leave(team)
        code = _code_for(entra, sent, "ada@console.test")
        team.get(f"/auth/callback?code={code}&state={sent['state']}")
        values.append(team.client.cookies.get("mailwarden_session"))
    earlier, later = values
    assert earlier and later and earlier != later
    assert team.get("/").status_code == 200
    team.client.cookies.clear()
    team.client.cookies.set("mailwarden_session", later)
    assert team.get("/").status_code == 200
    team.client.cookies.clear()
    team.client.cookies.set("mailwarden_session", earlier)
    assert team.get("/").status_code == 303
