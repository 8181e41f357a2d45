"""Fixtures of the console tests: clients are closed (with their event loop) afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mailwarden.console.app import create_app
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal
from mailwarden.store import dispose_engines
from tests.console.support import ConsoleClient, console_for, signed_in


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    yield console_for(f"sqlite:///{tmp_path / 'history.db'}")
    dispose_engines()


@pytest.fixture
def client_of(console: Console) -> Iterator[Callable[[Principal | None], ConsoleClient]]:
    """`client_of(None)`: an anonymous client; `client_of(principal)`: one signed in."""
    made: list[ConsoleClient] = []

    def make(principal: Principal | None = None) -> ConsoleClient:
        client = (signed_in(console, principal) if principal is not None
                  else ConsoleClient(create_app(console)))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
