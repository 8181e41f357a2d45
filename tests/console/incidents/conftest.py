"""The incident pages' tests share one seeded history database (a watch cycle over the
small synthetic tenant, with custodian answer links), copied for each test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailwarden.console.answer_links import incident_answer_links
from mailwarden.console.context import Console
from mailwarden.store import dispose_engines
from tests.console.incidents.seed import Seeded, seed
from tests.console.support import BASE_URL, LINK_KEY, console_for


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Seeded]]:
    where = tmp_path_factory.mktemp("seeded")
    url = f"sqlite:///{where / 'history.db'}"
    links = incident_answer_links(url, LINK_KEY, BASE_URL)
    made = seed(console_for(url), where, answer_links=links)
    dispose_engines()
    yield where, made
    dispose_engines()


@pytest.fixture
def console(seeded: tuple[Path, Seeded], tmp_path: Path) -> Iterator[Console]:
    shutil.copy(seeded[0] / "history.db", tmp_path / "history.db")
    yield console_for(f"sqlite:///{tmp_path / 'history.db'}")
    dispose_engines()
