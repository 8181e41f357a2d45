"""The history store on SQLite and PostgreSQL: migrations, storing, listing, diff."""

from __future__ import annotations

import dataclasses
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from mailwarden.errors import ConfigError, NoHistoryError, StoreError
from mailwarden.model.run import Run
from mailwarden.report import make_run
from mailwarden.store import (
    History,
    changes_since_previous,
    diff_runs,
    list_runs,
    resolve_db_url,
    store_run,
)
from mailwarden.store.migrate import current_revision, downgrade, head_revision, upgrade
from mailwarden.store.tables import METADATA
from tests.report.report_factory import small_run

T0 = datetime(2026, 11, 2, tzinfo=UTC)


def _run(small: Run, hours: int) -> Run:
    return dataclasses.replace(small, generated_at=T0 + timedelta(hours=hours))


@pytest.fixture(scope="module")
def small() -> Run:
    return small_run()


def test_migrations_run_from_empty_to_head_and_match_the_tables(db_url: str) -> None:
    with History.open(db_url) as history:
        engine = history.engine
        assert current_revision(engine) == head_revision() == "0007"
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), METADATA) == []
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(engine)
        assert {"runs", "findings", "alerts", "mailboxes", "delegates", "incidents",
                "exceptions", "fleet_tenants", "fleet_runs", "fleet_jobs"} <= set(
            inspect(engine).get_table_names())


def test_store_and_list_runs(db_url: str, small: Run) -> None:
    first = store_run(_run(small, 0), db_url)
    second = store_run(dataclasses.replace(_run(small, 1), detection=None), db_url)
    runs = list_runs(db_url)
    assert [r.id for r in runs] == [first, second]
    assert runs[0].generated_at == T0 and runs[0].tenant_id == "tenant-1"
    assert (runs[0].alerts, runs[1].alerts) == (1, None)
    assert runs[0].ownerless == 2 and runs[0].failures == len(small.result.failures())
    assert list_runs(db_url, "another-tenant") == ()
    assert diff_runs(db_url).empty  # the same tenant state twice


def test_a_run_reads_back_as_the_same_facts(db_url: str, small: Run) -> None:
    with History.open(db_url) as history:
        run_id = history.save(small)
        stored = history.load(run_id)
    from mailwarden.store.history import facts_of

    memory = facts_of(small, stored.ref)
    assert stored.findings == memory.findings
    assert stored.delegates == memory.delegates
    assert stored.settings == memory.settings
    assert stored.mailboxes == memory.mailboxes


def test_errors_name_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with pytest.raises(NoHistoryError, match=f"no history database at {path} yet"):
        diff_runs(str(path), 42, None)
    with History.open(str(path)):  # an empty history, at the current schema
        pass
    with pytest.raises(StoreError, match="no run 42"):
        diff_runs(str(path), 42, None)
    with pytest.raises(StoreError, match="no runs are stored"):
        diff_runs(str(path))
    with pytest.raises(ConfigError, match="unsupported"):
        resolve_db_url("mysql://u@h/db")


def test_locations(tmp_path: Path) -> None:
    assert resolve_db_url("postgresql://me@db/x").drivername == "postgresql+psycopg"
    assert resolve_db_url(None, {"MAILWARDEN_DB": str(tmp_path / "e.db")}).database == str(
        tmp_path / "e.db")
    default = resolve_db_url(None, {})
    assert default.database is not None and default.database.endswith(
        str(Path("mailwarden") / "history.db"))
    path = tmp_path / "private" / "h.db"
    store_run(dataclasses.replace(_run_stub(), generated_at=T0), str(path))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def _run_stub() -> Run:
    from mailwarden.model.findings import ScanResult
    from mailwarden.model.inventory import TenantInfo

    result = ScanResult(tenant=TenantInfo(tenant_id="t"), inventory=(), access=(), findings=(),
                        assessments=(), problems=(), checks=())
    return make_run(result, generated_at=T0)


def test_changes_since_previous_needs_a_stored_run(tmp_path: Path, small: Run) -> None:
    db = str(tmp_path / "h.db")
    assert changes_since_previous(small, db) is None
    store_run(small, db)
    changes = changes_since_previous(_run(small, 5), db)
    assert changes is not None and changes.empty


def test_reading_a_history_that_is_not_there_creates_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "not-yet"
    path = folder / "history.db"
    for read in (lambda: list_runs(str(path)), lambda: diff_runs(str(path))):
        with pytest.raises(NoHistoryError, match=f"no history database at {path} yet"):
            read()
    assert not folder.exists()
    # A file with no mailwarden schema in it (an interrupted first run) is no history
    # either, and stays as it was.
    folder.mkdir()
    path.touch()
    with pytest.raises(NoHistoryError):
        list_runs(str(path))
    assert path.stat().st_size == 0


def test_every_row_of_a_run_reads_back_as_it_was_written(db_url: str, small: Run) -> None:
    """Rows go in by INSERT on SQLite and by COPY on PostgreSQL: either way each column
    reads back as the row held it (JSON values, JSON null, times, NULLs)."""
    from sqlalchemy import select

    from mailwarden.store.history import _child_rows

    with History.open(db_url) as history:
        run_id = history.save(small)
        written = _child_rows(small)
        assert all(rows for table, rows in written if table.name != "mailboxes")
        with history.engine.connect() as connection:
            for table, rows in written:
                query = select(table).where(table.c.run_id == run_id).order_by(table.c.id)
                stored = [{k: v for k, v in row.items() if k not in ("id", "run_id")}
                          for row in connection.execute(query).mappings()]
                assert [_plain(row) for row in stored] == [_plain(row) for row in rows], \
                    table.name


def _plain(row: dict[str, object]) -> object:
    """A row as JSON would hold it; times in UTC (SQLite keeps them without a zone)."""
    import json

    from mailwarden.times import as_utc

    def value(v: object) -> object:
        return as_utc(v).isoformat() if isinstance(v, datetime) else v

    return json.loads(json.dumps({k: value(v) for k, v in row.items()}))
