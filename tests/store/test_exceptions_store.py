"""Accepted exceptions in the history database, on SQLite and PostgreSQL: add, list,
replace, import, remove, per tenant; and the migration that creates their table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from mailwarden.errors import InputError, NoHistoryError
from mailwarden.model.exceptions import ExceptionSource, FindingException
from mailwarden.store.exceptions import ExceptionStore
from mailwarden.store.migrate import downgrade, upgrade

AT = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def _exception(check: str, mailbox: str | None, **extra: object) -> FindingException:
    values: dict[str, object] = {
        "reason": "partners book it", "owner": "facilities@contoso.com",
        "expires": date(2027, 3, 31), "created_at": AT, "created_by": "ops.person", **extra}
    return FindingException(check=check, mailbox=mailbox, **values)  # type: ignore[arg-type]


def test_exceptions_round_trip_per_tenant(db_url: str) -> None:
    with ExceptionStore.open(db_url) as store:
        room = store.add("tenant-1", _exception("resource-account-enabled",
                                                "room-*@contoso.com", ticket="CHG-9"))
        lockout = store.add("tenant-1", _exception("weak-smart-lockout", None))
        store.add("tenant-2", _exception("imap-enabled", "hr@fabrikam.com"))
        loaded = store.load("tenant-1")
        assert loaded == (room, lockout)
        assert room.source is ExceptionSource.STORE and room.origin == f"store #{room.id}"
        assert (room.ticket, room.expires, room.created_at, room.created_by) == (
            "CHG-9", date(2027, 3, 31), AT, "ops.person")
        assert lockout.mailbox is None and len(store.load()) == 3

        with pytest.raises(InputError, match="already accepted for tenant tenant-1"):
            store.add("tenant-1", _exception("weak-smart-lockout", None))
        renewed = store.add("tenant-1", _exception("weak-smart-lockout", None,
                                                   expires=date(2027, 9, 30)),
                            replace_existing=True)
        assert [e.expires for e in store.load("tenant-1")] == [date(2027, 3, 31),
                                                               date(2027, 9, 30)]

        imported = store.import_exceptions(
            "tenant-1", [replace(room, reason="renewed", created_at=None, created_by=None),
                         _exception("imap-enabled", "hr@contoso.com")],
            by="importer", at=AT)
        after = store.load("tenant-1")
        assert [e.check for e in after] == ["weak-smart-lockout", "resource-account-enabled",
                                            "imap-enabled"]
        assert after[1].reason == "renewed" and after[1].created_by == "importer"
        assert {e.id for e in imported} <= {e.id for e in after}

        with pytest.raises(InputError, match="no stored exception 999"):
            store.remove("tenant-1", [renewed.id or 0, 999])
        assert len(store.load("tenant-1")) == 3  # nothing removed
        with pytest.raises(InputError, match="for tenant tenant-2"):
            store.remove("tenant-2", [renewed.id or 0])  # another tenant's
        removed = store.remove("tenant-1", [renewed.id or 0])
        assert [e.check for e in removed] == ["weak-smart-lockout"]
        assert len(store.load("tenant-1")) == 2 and len(store.load("tenant-2")) == 1


def test_the_migration_goes_down_and_up(db_url: str) -> None:
    with ExceptionStore.open(db_url) as store:
        store.add("tenant-1", _exception("imap-enabled", "hr@contoso.com"))
        engine = store.history.engine
        downgrade(engine, "0003")
        upgrade(engine)
        assert store.load() == ()


def test_reading_creates_no_database(tmp_path: Path) -> None:
    with pytest.raises(NoHistoryError):
        ExceptionStore.open(str(tmp_path / "none.db"), create=False)
    assert not (tmp_path / "none.db").exists()
