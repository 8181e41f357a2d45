"""The history database is opened and migrated once per process and URL, and URLs that
reach different databases (SQLite files, PostgreSQL schemas) never share an engine."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from mailwarden.errors import NoHistoryError
from mailwarden.model.findings import ScanResult
from mailwarden.model.inventory import TenantInfo
from mailwarden.model.run import Run
from mailwarden.remediate.journal_db import DatabaseJournal
from mailwarden.report import make_run
from mailwarden.store import (
    History,
    changes_since_previous,
    diff_runs,
    dispose_engines,
    list_runs,
    store_run,
)
from mailwarden.store import engines as store_engines
from tests.support.postgres_schema import postgres_schema_url

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def _run(hours: int, tenant: str = "t") -> Run:
    result = ScanResult(tenant=TenantInfo(tenant_id=tenant), inventory=(), access=(),
                        findings=(), assessments=(), problems=(), checks=())
    return make_run(result, generated_at=T0 + timedelta(hours=hours))


@pytest.fixture
def migrations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The URLs migrations ran on, from a cache emptied before and after the test."""
    dispose_engines()
    ran: list[str] = []
    upgrade = store_engines.upgrade

    def counted(engine: Engine, revision: str = "head") -> None:
        ran.append(engine.url.render_as_string(hide_password=False))
        upgrade(engine, revision)

    monkeypatch.setattr(store_engines, "upgrade", counted)
    yield ran
    dispose_engines()


@pytest.fixture(params=["sqlite", "postgresql"])
def two_db_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield str(tmp_path / "a.db"), str(tmp_path / "b.db")
        return
    schema = contextmanager(postgres_schema_url)
    with schema("mw_eng_a_") as first, schema("mw_eng_b_") as second:
        yield first, second


def test_store_calls_in_one_process_migrate_once(db_url: str, migrations: list[str]) -> None:
    first = store_run(_run(0), db_url)
    second = store_run(_run(1), db_url)
    assert [r.id for r in list_runs(db_url)] == [first, second]
    changes = changes_since_previous(_run(2), db_url)
    assert changes is not None and changes.empty
    assert diff_runs(db_url).empty
    with DatabaseJournal(db_url) as journal:
        assert journal.run_ids() == ()
    with History.open(db_url) as one, History.open(db_url) as two:
        assert one.engine is two.engine
    assert len(migrations) == 1


def test_databases_with_different_urls_share_nothing(
    two_db_urls: tuple[str, str], migrations: list[str]
) -> None:
    a, b = two_db_urls
    store_run(_run(0, "tenant-a"), a)
    with pytest.raises(NoHistoryError):  # b was never written to: it holds no history
        list_runs(b)
    store_run(_run(0, "tenant-b"), b)
    assert [r.tenant_id for r in list_runs(a)] == ["tenant-a"]
    assert [r.tenant_id for r in list_runs(b)] == ["tenant-b"]
    assert len(migrations) == 2 and migrations[0] != migrations[1]


def test_disposing_the_engines_opens_and_migrates_again(db_url: str,
                                                        migrations: list[str]) -> None:
    store_run(_run(0), db_url)
    dispose_engines()
    store_run(_run(1), db_url)
    assert len(list_runs(db_url)) == 2
    assert len(migrations) == 2


def test_a_sqlite_file_removed_meanwhile_is_a_new_database(tmp_path: Path,
                                                           migrations: list[str]) -> None:
    path = tmp_path / "history.db"
    store_run(_run(0), str(path))
    path.unlink()
    store_run(_run(1), str(path))
    assert len(list_runs(str(path))) == 1
    assert len(migrations) == 2


def test_an_in_memory_database_is_not_shared(migrations: list[str]) -> None:
    with History.open("sqlite://") as history:
        history.save(_run(0))
        assert history.count() == 1
    with History.open("sqlite://") as history:
        assert history.count() == 0
    assert len(migrations) == 2
