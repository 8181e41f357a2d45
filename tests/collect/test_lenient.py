from datetime import UTC, datetime

import pytest

from mailwarden.collect.lenient import Record, to_bool, to_datetime, to_enum, to_flags, to_texts
from mailwarden.collect.parse import MAILBOX_RIGHTS, RECIPIENT_TYPE_DETAILS


def test_record_reads_properties_in_any_case() -> None:
    record = Record({"auditenabled": "True", "PRIMARYSMTPADDRESS": "HR@contoso.com"})
    assert record.flag("AuditEnabled") is True
    assert record.text("PrimarySmtpAddress") == "HR@contoso.com"
    assert record.get("Missing") is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("$false", False), ("False", False), (1, True), (0, False), ("maybe", None)],
)
def test_booleans_as_powershell_writes_them(value: object, expected: bool | None) -> None:
    assert to_bool(value) is expected


def test_absent_boolean_stays_unknown() -> None:
    assert to_bool(None) is None


@pytest.mark.parametrize(
    "value",
    [
        "/Date(1700000000000)/",
        "/Date(1700000000000+0100)/",
        "2023-11-14T22:13:20Z",
        "2023-11-14T22:13:20.0000000+00:00",
        "2023-11-14 22:13:20",
        {"value": "/Date(1700000000000)/", "DateTime": "Tuesday, 14 November 2023 22:13:20"},
    ],
)
def test_dates_in_every_form_exchange_and_graph_use(value: object) -> None:
    assert to_datetime(value) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)


def test_never_and_garbage_dates_are_unknown() -> None:
    assert to_datetime("0001-01-01T00:00:00Z") is None
    assert to_datetime("not a date") is None


def test_lists_from_arrays_lone_values_and_joined_strings() -> None:
    assert to_texts(["Update", "Move"]) == ("Update", "Move")
    assert to_texts("Update, Move") == ("Update", "Move")
    assert to_texts("{Update, Move}") == ("Update", "Move")
    assert to_texts("") == ()
    assert to_texts(None) is None


def test_enums_by_name_or_integer() -> None:
    assert to_enum(4, RECIPIENT_TYPE_DETAILS) == "SharedMailbox"
    assert to_enum("16", RECIPIENT_TYPE_DETAILS) == "RoomMailbox"
    assert to_enum("SchedulingMailbox", RECIPIENT_TYPE_DETAILS) == "SchedulingMailbox"
    assert to_enum(3, RECIPIENT_TYPE_DETAILS) == "Unknown(3)"


def test_flag_enums_split_and_unknown_bits_stay_visible() -> None:
    assert to_flags([1], MAILBOX_RIGHTS) == ("FullAccess",)
    assert to_flags(1 | 131072, MAILBOX_RIGHTS) == ("FullAccess", "ReadPermission")
    assert to_flags("FullAccess, ReadPermission", MAILBOX_RIGHTS) == (
        "FullAccess",
        "ReadPermission",
    )
    assert to_flags(1 | 8, MAILBOX_RIGHTS) == ("FullAccess", "Unknown(8)")
