import re
from datetime import UTC, datetime, timedelta

import pytest

from mailwarden.tenant import lenient
from mailwarden.tenant.exchange import MAILBOX_RIGHTS, RECIPIENT_TYPE_DETAILS
from mailwarden.tenant.lenient import Record, to_bool, to_datetime, to_enum, to_flags, to_texts


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


def test_a_property_named_twice_in_different_case_reads_as_the_later_one() -> None:
    record = Record({"Name": "first", "NAME": "second", "Other": None, "other": "x"})
    assert record.get("name") == "second"
    assert record.get("Name") == "second"
    assert record.get("OTHER") == "x"


def test_alternative_names_give_the_first_non_null_value() -> None:
    record = Record({"ExchangeGuid": "e", "Guid": None})
    assert record.get("Guid", "ExchangeGuid") == "e"
    assert record.get("Missing", "guid") is None
    assert Record({"Guid": "g", "ExchangeGuid": "e"}).get("ExchangeGuid", "Guid") == "e"
    assert Record({"value": "v"}).get("Value", "value") == "v"


def test_records_of_one_shape_keep_their_own_values() -> None:
    first = Record({"Identity": "a", "Enabled": "True"})
    second = Record({"Identity": "b", "Enabled": None})
    assert (first.text("identity"), first.flag("enabled")) == ("a", True)
    assert (second.text("identity"), second.flag("enabled")) == ("b", None)
    # The same keys in another case are another shape, answered the same way.
    third = Record({"identity": "c", "ENABLED": 0})
    assert (third.text("Identity"), third.flag("Enabled")) == ("c", False)


def test_lookups_stay_right_when_the_shape_cache_is_refilled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lenient, "_MAX_SHAPES", 3)
    for number in range(20):
        record = Record({f"Extra{number}": number, "Name": f"n{number}"})
        assert record.text("name") == f"n{number}"
        assert record.get(f"extra{number}") == number
        assert record.get(f"extra{number + 1}") is None
    assert len(lenient._SHAPES) <= 3


def test_nested_objects_and_non_object_children() -> None:
    record = Record({"signInActivity": {"LastSignInDateTime": "2023-11-14T22:13:20Z"}, "x": 1})
    assert record.child("SignInActivity").when("lastSignInDateTime") == datetime(
        2023, 11, 14, 22, 13, 20, tzinfo=UTC
    )
    assert record.child("x").get("anything") is None
    assert record.child("missing").raw == {}


def test_text_trims_and_reads_identity_objects() -> None:
    record = Record({"a": "  x  ", "b": "   ", "c": {"Name": " HR "}, "d": 5, "e": {"z": 1}})
    assert [record.text(n) for n in "abcde"] == ["x", None, "HR", "5", None]


class _Text(str):
    """A str subclass, as some JSON decoders hand out."""


def test_lists_with_items_that_are_not_plain_strings() -> None:
    assert to_texts([" a ", "", None, 3, {"Name": "grp"}, _Text(" s ")]) == ("a", "3", "grp", "s")
    assert to_texts(("x", " y")) == ("x", "y")
    assert to_texts({"Name": "one"}) == ("one",)
    assert to_texts(7) == ("7",)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(" TRUE ", True), ("Enabled", True), ("$False", False), ("off", False), (2.5, True)],
)
def test_boolean_words_in_any_case(value: object, expected: bool) -> None:
    assert to_bool(value) is expected


def _reference_to_datetime(value: str) -> datetime | None:
    """The date reader as first written (regular expressions only), kept as the oracle."""
    text = value.strip()
    if not text:
        return None
    match = re.match(r"^/Date\((-?\d+)([+-]\d{4})?\)/$", text)
    if match:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(match.group(1)))
    if text.startswith("0001-01-01"):
        return None
    iso = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d\d-\d\d \d", text) else text
    iso = re.sub(r"(\.\d{6})\d+", r"\1", iso)
    try:
        parsed = datetime.fromisoformat(iso)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _date_spellings() -> list[str]:
    zones = ["", "Z", "+00:00", "-05:30", "+0100", "+05:30:15", "+05:30:15.1234567", "z"]
    fractions = ["", ".", ",5"] + ["." + "1234567890"[:n] for n in range(1, 11)]
    spellings = [
        f"2023-11-14{sep}22:13:20{fraction}{zone}"
        for sep in ("T", " ", "t", "_")
        for fraction in fractions
        for zone in zones
    ]
    spellings += [f"2023-11-14T22:13{zone}" for zone in zones]
    spellings += [
        "2023-11-14",
        "20231114T221320Z",
        "2023-11-14 ",
        " 2023-11-14T22:13:20.1234567Z ",
        "2023-11-14  22:13:20",
        "2023-11-14T22:13:20.1234567.1234567",
        "2023-11-14T25:13:20",
        "0001-01-01T00:00:00",
        "/Date(1700000000000)/",
        "/Date(-1000)/",
        "/Date(1700000000000-0500)/",
        "/Date(abc)/",
        "/",
        "1700000000",
        "Tuesday, 14 November 2023 22:13:20",
        "2023-11-14T22:13:20." + "\u0661" * 7,  # digits, to a regular expression
        "\u0662\u0660\u0662\u0663-11-14 22:13:20",
    ]
    return spellings


def test_dates_read_as_the_plain_regular_expression_reader_reads_them() -> None:
    spellings = _date_spellings()
    assert sum(_reference_to_datetime(s) is not None for s in spellings) > 200
    for spelling in spellings:
        assert to_datetime(spelling) == _reference_to_datetime(spelling), spelling
