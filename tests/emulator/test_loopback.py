"""The emulator on loopback HTTPS: MSAL's real code path through mailwarden.m365.auth,
the collector over real sockets, and faults that act on the connection."""

from __future__ import annotations

import gc
import socket
import ssl
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
import trustme

from mailwarden.emulator import (
    EmulatorConfig,
    FaultKind,
    Served,
    TargetedFault,
    create_app,
    serve_in_thread,
)
from mailwarden.errors import AuthError
from mailwarden.m365.auth import (
    certificate_token_source,
    device_code_token_source,
    secret_token_source,
)
from mailwarden.m365.session import M365Session
from mailwarden.pipeline import collect_live_tenant
from mailwarden.settings import AuthMethod
from mailwarden.tenant.snapshot import snapshot_from_recorded
from tests.emulator.emulator_helpers import (
    EXO_SCOPE,
    GRAPH_SCOPE,
    run,
    settings_for,
    small,
    tenant_id,
)

pytestmark = pytest.mark.slow

_FAULTS = (
    TargetedFault(pattern=r"^graph:/v1\.0/organization", nth=1, kind=FaultKind.DROP),
    TargetedFault(pattern=r"^graph:/v1\.0/organization", nth=2, kind=FaultKind.TIMEOUT),
)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    config = EmulatorConfig(device_code_interval=0, targeted_faults=_FAULTS, timeout_seconds=2)
    with serve_in_thread(create_app(small().recorded, config=config)) as running:
        yield running


def _settings(served: Served, **overrides: object):  # type: ignore[no-untyped-def]
    return settings_for(served.base_url, tenant_id(), ca_bundle=served.ca_file, **overrides)


def test_the_ca_is_private_and_names_only_loopback(served: Served) -> None:
    assert served.base_url.startswith("https://127.0.0.1:")
    assert served.ca_file.stat().st_mode & 0o777 == 0o600
    context = ssl.create_default_context(cafile=str(served.ca_file))
    answer = httpx.get(f"{served.base_url}/{tenant_id()}/v2.0/.well-known/openid-configuration",
                       verify=context)
    assert answer.json()["token_endpoint"].startswith(served.base_url)


def test_msal_gets_tokens_with_the_secret_and_is_refused_with_another(served: Served) -> None:
    settings = _settings(served)
    tokens = secret_token_source(settings, env={"MAILWARDEN_CLIENT_SECRET": "emulator-secret"})
    assert run(tokens.token(GRAPH_SCOPE)) != run(tokens.token(EXO_SCOPE))
    wrong = secret_token_source(settings, env={"MAILWARDEN_CLIENT_SECRET": "not-it"})
    with pytest.raises(AuthError, match="client secret is wrong"):
        run(wrong.token(GRAPH_SCOPE))


def test_msal_gets_tokens_with_a_certificate(served: Served, tmp_path: Path) -> None:
    pem = tmp_path / "app.pem"
    issued = trustme.CA(key_type=trustme.KeyType.RSA).issue_cert(
        "mailwarden-app", key_type=trustme.KeyType.RSA)
    pem.write_bytes(issued.cert_chain_pems[0].bytes() + issued.private_key_pem.bytes())
    settings = _settings(served, certificate_path=pem, auth=AuthMethod.CERTIFICATE)
    assert run(certificate_token_source(settings).token(EXO_SCOPE))


def test_msal_device_code_signs_in_once_for_both_services(served: Served) -> None:
    prompts: list[str] = []
    tokens = device_code_token_source(_settings(served, auth=AuthMethod.DEVICE_CODE),
                                      prompts.append)
    assert run(tokens.token(GRAPH_SCOPE)) and run(tokens.token(EXO_SCOPE))
    assert len(prompts) == 1 and "enter the code" in prompts[0]


def test_a_dropped_connection_and_a_timeout_reach_the_client_as_transport_errors(
    served: Served,
) -> None:
    async def main() -> list[type[BaseException] | int]:
        settings = _settings(served)
        tokens = secret_token_source(settings, env={"MAILWARDEN_CLIENT_SECRET": "emulator-secret"})
        headers = {"Authorization": f"Bearer {await tokens.token(GRAPH_SCOPE)}"}
        context = ssl.create_default_context(cafile=str(served.ca_file))
        outcomes: list[type[BaseException] | int] = []
        async with httpx.AsyncClient(verify=context, timeout=0.5) as client:
            for _ in range(3):
                try:
                    answer = await client.get(f"{served.base_url}/v1.0/organization",
                                              headers=headers)
                    outcomes.append(answer.status_code)
                except httpx.TransportError as exc:
                    outcomes.append(type(exc))
        return outcomes

    dropped, timed_out, fine = run(main())
    assert isinstance(dropped, type) and issubclass(dropped, httpx.RemoteProtocolError)
    assert isinstance(timed_out, type) and issubclass(timed_out, httpx.ReadTimeout)
    assert fine == 200


def test_the_collector_reads_the_tenant_over_loopback() -> None:
    with serve_in_thread(small().recorded) as running:
        settings = _settings(running)
        with M365Session(settings, tokens=secret_token_source(
                settings, env={"MAILWARDEN_CLIENT_SECRET": "emulator-secret"})) as session:
            recorded = collect_live_tenant(session)
        stats = running.stats.as_dict()
    assert recorded.errors == {}
    collected = snapshot_from_recorded(recorded)
    assert collected.mailboxes == snapshot_from_recorded(small().recorded).mailboxes
    assert stats["services"]["graph"]["requests"] == stats["necessary"]["graph"]


def test_stopping_closes_connections_that_clients_keep_alive() -> None:
    session = requests.Session()
    with serve_in_thread(small().recorded) as running:
        session.trust_env = False  # REQUESTS_CA_BUNDLE would win over verify
        session.verify = str(running.ca_file)
        url = f"{running.base_url}/{tenant_id()}/v2.0/.well-known/openid-configuration"
        assert session.get(url).status_code == 200
    del running  # the server and its connections are garbage now; unclosed ones would warn
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gc.collect()
    session.close()
    assert not [w for w in caught if "unclosed transport" in str(w.message)]


def test_the_emulator_answers_with_nagles_algorithm_off(served: Served) -> None:
    """Every connection the emulator accepts has TCP_NODELAY: with Nagle's algorithm on, an
    answer written as head then body waits for the client's delayed acknowledgement (about
    40 ms on Linux), and every request would take that much longer than the latency the
    emulator was asked for, in every test and benchmark."""
    with httpx.Client(verify=ssl.create_default_context(cafile=str(served.ca_file))) as client:
        client.get(f"{served.base_url}/_emulator/stats").raise_for_status()
        connections = list(served._server.server_state.connections)
        assert connections, "the emulator holds the client's kept-alive connection"
        for connection in connections:
            sock = connection.transport.get_extra_info("socket")  # type: ignore[attr-defined]
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
