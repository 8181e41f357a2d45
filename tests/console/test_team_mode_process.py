"""Team mode as a user runs it: `mailwarden console --auth entra --config FILE` (a
subprocess, nothing injected) signs a person in through the emulator's Entra ID on loopback
HTTPS, with the console application's secret named by the settings file and held in the
environment; the person lands with the role their app role gives, and the sign-in is in the
audit log. The browser end to end of every role is tests/console/test_oidc_browser.py."""

from __future__ import annotations

import re
import socket
import ssl
from pathlib import Path

import httpx
import pytest

from mailwarden.console.audit import AuditLog
from mailwarden.emulator import EmulatorConfig, serve_in_thread
from mailwarden.emulator import create_app as emulator_app
from mailwarden.emulator.config import WebApp
from mailwarden.store import History, dispose_engines
from tests.console.browser import start
from tests.emulator.emulator_helpers import small, tenant_id

CLIENT = "0c0501e0-0000-4000-8000-00000000beef"
SECRET_VARIABLE = "TEAM_MODE_TEST_APP_SECRET"
_FORM = re.compile(r"<form method='post' action='([^']+)'")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_console_command_signs_a_person_in_with_entra_id(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    web = WebApp(client_id=CLIENT, redirect_uris=(f"{base}/auth/callback",),
                 assignments={"ada@console.test": ("Console.Approver",)})
    emulator = emulator_app(small().recorded, config=EmulatorConfig(web_apps=(web,)))
    with serve_in_thread(emulator) as entra:
        settings = tmp_path / "mailwarden.toml"
        settings.write_text(
            f'tenant = "{tenant_id()}"\nlogin_url = "{entra.base_url}"\n'
            f'ca_bundle = "{entra.ca_file}"\nconsole_client_id = "{CLIENT}"\n'
            f'console_client_secret_env = "{SECRET_VARIABLE}"\n', encoding="utf-8")
        db = f"sqlite:///{tmp_path / 'history.db'}"
        running = start(["console", "--auth", "entra", "--config", str(settings), "--db", db,
                         "--port", str(port)], env={SECRET_VARIABLE: "emulator-secret"})
        try:
            assert running.sign_in_url == f"{base}/"
            trust = ssl.create_default_context(cafile=str(entra.ca_file))
            with httpx.Client(verify=trust, trust_env=False, timeout=30) as client:
                begin = client.get(f"{base}/auth/signin")
                assert begin.status_code in (302, 303)
                authorize = begin.headers["location"]
                assert authorize.startswith(f"{entra.base_url}/{tenant_id()}/oauth2/v2.0/")
                form = client.get(authorize)
                action = _FORM.search(form.text)
                assert form.status_code == 200 and action, form.text
                answer = client.post(httpx.URL(authorize).join(action.group(1).replace(
                    "&amp;", "&")), data={"login": "ada@console.test"})
                assert answer.status_code == 302
                callback = answer.headers["location"]
                assert callback.startswith(f"{base}/auth/callback?")
                landed = client.get(callback)
                assert landed.status_code == 200, landed.text
                home = client.get(f"{base}/")
                assert home.status_code == 200
                assert "approver" in home.text
                assert client.get(f"{base}/audit").status_code == 403  # admin only
        finally:
            code, out, err = running.stop()
    assert code == 0, err
    assert "emulator-secret" not in out + err
    with History.open(db) as history:
        actions = [entry.action for entry in AuditLog(history).entries()]
    dispose_engines()
    assert any(action.startswith("signin") for action in actions), actions
