"""The tenant context reaches the rules' `ctx_*` tables row for row, column for column."""

from datetime import UTC, datetime, timedelta, timezone

from mailwarden.detect.context import (
    DepartedAccount,
    DetectContext,
    GuestAccount,
    MailboxGrant,
    OwnerlessAccount,
)
from mailwarden.detect.engine import Engine

CONTEXT = DetectContext(
    ownerless=(
        OwnerlessAccount(upn="Shared@Contoso.com", id="ID-1", kind="shared",
                         aliases=("Sales", "sales@contoso.com", "")),
        OwnerlessAccount(upn="room1@contoso.com", kind="room"),
    ),
    departed=(
        DepartedAccount(upn="Left@contoso.com", id="d1",
                        since=datetime(2026, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))),
        DepartedAccount(upn="gone@contoso.com"),
    ),
    guests=(GuestAccount(upn="Guest_x#EXT#@contoso.com", id="g1"),),
    verified_domains=("@Contoso.com", "fabrikam.com"),
    grants=tuple(
        MailboxGrant(mailbox=f"Shared{n}@contoso.com", trustee=f"P{n}@contoso.com",
                     right="SendAs" if n % 2 else "FullAccess", active=n % 3 != 0,
                     removed_at=datetime(2026, 1, 1, tzinfo=UTC) if n % 3 == 0 else None)
        for n in range(5000)),
)


def _rows(engine: Engine, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row.values()) for row in engine.query(sql)]


def test_context_tables_hold_every_part_lower_cased_and_in_utc() -> None:
    with Engine() as engine:
        engine.load_context(CONTEXT, [(50053, "lockout"), (50126, "bad_password")])
        assert _rows(engine, "SELECT * FROM mw_codes ORDER BY code") == [
            (50053, "lockout"), (50126, "bad_password")]
        assert _rows(engine, "SELECT * FROM ctx_ownerless ORDER BY upn") == [
            ("room1@contoso.com", None, "room"), ("shared@contoso.com", "ID-1", "shared")]
        assert _rows(engine, "SELECT * FROM ctx_ownerless_keys ORDER BY upn, key") == [
            ("room1", "room1@contoso.com"), ("room1@contoso.com", "room1@contoso.com"),
            ("id-1", "shared@contoso.com"), ("sales", "shared@contoso.com"),
            ("sales@contoso.com", "shared@contoso.com"), ("shared", "shared@contoso.com"),
            ("shared@contoso.com", "shared@contoso.com")]
        assert _rows(engine, "SELECT * FROM ctx_departed ORDER BY upn") == [
            ("gone@contoso.com", None, None),
            ("left@contoso.com", "d1", datetime(2026, 3, 1, 10, 0))]
        assert _rows(engine, "SELECT * FROM ctx_guests") == [("guest_x#ext#@contoso.com", "g1")]
        assert _rows(engine, "SELECT * FROM ctx_domains ORDER BY domain") == [
            ("contoso.com",), ("fabrikam.com",)]
        grants = engine.query("SELECT * FROM ctx_grants ORDER BY trustee")
        assert len(grants) == 5000
        assert grants[0] == {"mailbox": "shared0@contoso.com", "trustee": "p0@contoso.com",
                             "access_right": "FullAccess", "active": False,
                             "removed_at": datetime(2026, 1, 1)}
        assert all(g["mailbox"][6:] == g["trustee"][1:] for g in grants)  # columns stay paired
        assert sum(g["access_right"] == "SendAs" for g in grants) == 2500
        assert sum(g["removed_at"] is None for g in grants) == sum(g["active"] for g in grants)


def test_an_empty_context_leaves_the_tables_empty() -> None:
    with Engine() as engine:
        engine.load_context(DetectContext(), [])
        for table in ("mw_codes", "ctx_ownerless", "ctx_ownerless_keys", "ctx_departed",
                      "ctx_guests", "ctx_domains", "ctx_grants"):
            assert engine.count(table) == 0
