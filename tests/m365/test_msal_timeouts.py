"""MSAL's transport gives every request a timeout: requests alone would wait forever."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from mailwarden.m365.auth import TimeoutSession, msal_http_session
from mailwarden.settings import Settings


def _sent(monkeypatch: pytest.MonkeyPatch, session: requests.Session, **kwargs: Any) -> Any:
    seen: dict[str, Any] = {}

    def request(self: requests.Session, method: str, url: str, *args: Any, **kw: Any) -> None:
        seen.update(kw)

    monkeypatch.setattr(requests.Session, "request", request)
    session.request("GET", "https://127.0.0.1:1/", **kwargs)
    return seen["timeout"]


def test_every_msal_request_without_a_timeout_gets_the_settings_timeouts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = msal_http_session(Settings(connect_timeout=3.0, read_timeout=7.0))
    assert isinstance(session, TimeoutSession)
    assert session.trust_env  # the real cloud: proxies from the environment still apply
    assert _sent(monkeypatch, session) == (3.0, 7.0)
    assert _sent(monkeypatch, session, timeout=None) == (3.0, 7.0)
    assert _sent(monkeypatch, session, timeout=2) == 2  # a caller's own timeout is kept


def test_a_ca_bundle_session_has_the_timeouts_and_ignores_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    session = msal_http_session(Settings(ca_bundle=tmp_path / "ca.pem"))
    assert not session.trust_env
    assert session.verify == str(tmp_path / "ca.pem")
    assert _sent(monkeypatch, session) == (10.0, 120.0)
