"""`mailwarden emulator --console-app ...`: the console's app registration from the command
line, refused when incomplete, and served as a subprocess with nothing injected."""

from __future__ import annotations

import base64
import hashlib
import signal
import ssl
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from typer.testing import CliRunner

from mailwarden.cli import command_app
from mailwarden.errors import ConfigError
from mailwarden.synth import generate
from mailwarden.tenant.recorded import write_recorded_tenant

runner = CliRunner()
CLIENT = "c0c0c0c0-0000-4000-8000-000000000001"
REDIRECT = "http://127.0.0.1:9/auth/callback"


#: A stopped emulator exits within a second when the machine is quiet; the suite runs
#: many processes at once on few cores.
STOP_TIMEOUT = 60


@pytest.mark.parametrize("args", [
    ["--console-redirect", REDIRECT],
    ["--console-user", "a@x.test=Console.Admin"],
    ["--console-app", CLIENT],
    ["--console-app", CLIENT, "--console-redirect", REDIRECT, "--console-user", "a@x.test"],
    ["--console-app", CLIENT, "--console-redirect", REDIRECT,
     "--console-user", "a@x.test=Console.God"],
    ["--id-token-fault", "a@x.test=sneaky"],
])
def test_an_incomplete_or_wrong_console_registration_is_refused_before_serving(
    args: list[str],
) -> None:
    result = runner.invoke(command_app(), ["emulator", "--synthetic", "small", *args])
    assert isinstance(result.exception, ConfigError), result.output


def test_help_names_the_console_app_roles_and_the_faults() -> None:
    result = runner.invoke(command_app(), ["emulator", "--help"], terminal_width=200)
    assert "Console.Approver" in result.output and "bad-signature" in result.output


@pytest.mark.slow
def test_the_served_console_app_signs_a_user_in_with_their_roles(tmp_path: Path) -> None:
    tenant = generate(60, seed=2).recorded
    write_recorded_tenant(tmp_path / "tenant", tenant)
    ca = tmp_path / "ca.pem"
    process = subprocess.Popen(
        [sys.executable, "-m", "mailwarden", "emulator", "--tenant-dir", str(tmp_path / "tenant"),
         "--ca-out", str(ca), "--console-app", CLIENT, "--console-redirect", REDIRECT,
         "--console-user", "Ada@Console.Test=Console.Approver,Console.Viewer"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip()
        tenant_id = tenant.data["tenant"]["tenantId"]
        verifier = "v" * 50
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        query = urlencode({"client_id": CLIENT, "response_type": "code", "scope": "openid",
                           "redirect_uri": REDIRECT, "state": "s", "nonce": "n",
                           "code_challenge": challenge, "code_challenge_method": "S256"})
        with httpx.Client(base_url=base, verify=ssl.create_default_context(cafile=str(ca)),
                          trust_env=False) as client:
            url = f"/{tenant_id}/oauth2/v2.0/authorize?{query}"
            assert "name='login'" in client.get(url).text
            answer = client.post(url, data={"login": "ada@console.test"})
            code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
            tokens = client.post(f"/{tenant_id}/oauth2/v2.0/token", data={
                "grant_type": "authorization_code", "client_id": CLIENT, "code": code,
                "redirect_uri": REDIRECT, "code_verifier": verifier,
                "client_secret": "emulator-secret"}).json()
            keys = client.get(f"/{tenant_id}/discovery/v2.0/keys").json()
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=STOP_TIMEOUT)
    assert process.returncode == 0, errors
    assert f"web app {CLIENT}" in errors
    claims = jwt.decode(tokens["id_token"], jwt.PyJWK(keys["keys"][0]).key, algorithms=["RS256"],
                        audience=CLIENT, issuer=f"{base}/{tenant_id}/v2.0")
    assert claims["roles"] == ["Console.Approver", "Console.Viewer"]
    assert claims["nonce"] == "n"
