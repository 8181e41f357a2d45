"""History databases for the store tests: a SQLite file always, and PostgreSQL when
MAILWARDEN_TEST_POSTGRES_URL names a server (each test gets a schema of its own)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.postgres_schema import postgres_schema_url

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path_factory.mktemp("history") / "history.db")
        return
    yield from postgres_schema_url("mw_test_")
