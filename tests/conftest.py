"""Every test gets per-user data and state folders of its own (XDG_DATA_HOME,
XDG_STATE_HOME; no MAILWARDEN_DB): commands that store runs in the default history, and the
watcher's default state folder, never reach the home folder of whoever runs the tests, and
no test sees another's runs."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def own_user_folders(monkeypatch: pytest.MonkeyPatch,
                     tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.delenv("MAILWARDEN_DB", raising=False)
