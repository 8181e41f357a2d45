"""Every test gets per-user data and state folders of its own (XDG_DATA_HOME,
XDG_STATE_HOME; no MAILWARDEN_DB): commands that store runs in the default history, and the
watcher's default state folder, never reach the home folder of whoever runs the tests, and
no test sees another's runs; module- and session-scoped fixtures get folders of their own
too.

SIGINT is handled in every test process, even when the suite was started with it ignored
(see `pytest_configure`).

The package's bytecode is written once before the tests start: hundreds of tests run
`python -m mailwarden` as a process, and where bytecode writing is off
(PYTHONDONTWRITEBYTECODE) each of them would otherwise compile the whole package again."""

from __future__ import annotations

import compileall
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

import mailwarden


def pytest_configure(config: pytest.Config) -> None:
    # Tests stop servers as Ctrl-C does, with SIGINT. A shell starting the suite as a
    # background job (`cmd &` without job control) hands it SIGINT ignored, every process
    # it starts inherits that, and Python then never raises KeyboardInterrupt. A handler
    # here is reset to the default in each process the tests start (exec keeps only
    # ignored signals ignored).
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if hasattr(config, "workerinput"):  # an xdist worker: the controller compiled it
        return
    compileall.compile_dir(Path(mailwarden.__file__).parent, quiet=1)


@pytest.fixture(scope="session", autouse=True)
def session_user_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same for what module- and session-scoped fixtures run, before any test's own."""
    home = tmp_path_factory.mktemp("session-user")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(home / "data"))
        patch.setenv("XDG_STATE_HOME", str(home / "state"))
        patch.delenv("MAILWARDEN_DB", raising=False)
        yield


@pytest.fixture(autouse=True)
def own_user_folders(monkeypatch: pytest.MonkeyPatch,
                     tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.delenv("MAILWARDEN_DB", raising=False)
