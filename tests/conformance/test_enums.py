"""Every value the code compares a Graph property with, or sends in one, is a value that
property can hold.

Where the v1.0 CSDL declares the property as an enum, the value must be a member (the
same spelling when the code sends it; any case when the code compares case-folded).
Where the CSDL says `Edm.String` or `Collection(Edm.String)`, no schema lists the values:
the row says so and cites Microsoft's documentation for the values the code relies on.

Each row also names the module that holds the value as written, and the test checks it
is there: a row whose value the code no longer uses fails, so the table follows the code.
Values the synthetic tenant and the emulator *serve* are checked against the enums by
`test_responses` (e.g. sign-in `conditionalAccessStatus`, registration `userType`).

Source of the schema: `../shared/reference/graph-v1.0-metadata.xml` (msgraph-metadata,
clean v1.0, MIT).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from mailwarden.collect.logs import EXCHANGE_RECORD_TYPES
from mailwarden.detect.inputs.ual import SKIP_CONDITION
from tests.conformance.csdl import Schema, element_type
from tests.conformance.sources import SOURCE_ROOT


@dataclass(frozen=True, slots=True)
class Compared:
    type: str  # the declaring type, qualified
    property: str  # a property path on it
    values: tuple[str, ...]  # as written in the code
    module: str  # where, relative to src/mailwarden
    folded: bool  # the code compares lower-cased values
    evidence: str = ""  # for string-typed properties: Microsoft's word on the values


G = "microsoft.graph."
COMPARED = (
    Compared(f"{G}conditionalAccessPolicy", "state",
             ("disabled", "enabledforreportingbutnotenforced"), "assess/effective.py", True),
    Compared(f"{G}conditionalAccessPolicy", "conditions/clientAppTypes",
             ("exchangeactivesync", "other", "all"), "assess/effective.py", True),
    Compared(f"{G}conditionalAccessPolicy", "grantControls/builtInControls", ("block",),
             "assess/effective.py", True),
    Compared(f"{G}conditionalAccessPolicy", "conditions/users/includeUsers",
             ("all", "guestsorexternalusers"), "assess/effective.py", True,
             "https://learn.microsoft.com/graph/api/resources/conditionalaccessusers: "
             "includeUsers holds user ids, None, All or GuestsOrExternalUsers"),
    Compared(f"{G}conditionalAccessPolicy", "conditions/applications/includeApplications",
             ("all", "office365"), "assess/effective.py", True,
             "https://learn.microsoft.com/graph/api/resources/conditionalaccessapplications: "
             "includeApplications holds appIds, All, Office365 or MicrosoftAdminPortals"),
    Compared(f"{G}user", "userType", ("guest",), "model/inventory.py", True,
             "https://learn.microsoft.com/graph/api/resources/user: userType is Member or "
             "Guest"),
    Compared(f"{G}security.auditLogQuery", "recordTypeFilters", EXCHANGE_RECORD_TYPES,
             "collect/logs.py", False),
    Compared(f"{G}security.auditLogQuery", "status", ("succeeded", "failed", "cancelled"),
             "collect/logs.py", False),
)
#: Properties whose values the code reads as free strings, not compared with a list a
#: schema could check: recorded here so that nobody mistakes them for enums.
STRINGS = (
    (f"{G}userRegistrationDetails", "methodsRegistered",
     "Collection(Edm.String): an open set; assess/checks/signin.py STRONG_METHODS names the "
     "strong ones (https://learn.microsoft.com/graph/api/resources/userregistrationdetails)"),
    (f"{G}signIn", "clientAppUsed",
     "Edm.String: detection maps the texts (Browser, IMAP4, Authenticated SMTP, ...) to "
     "protocols in detect/macros.sql mw_protocol"),
    (f"{G}signIn", "status/errorCode", "Edm.Int32: compared with Entra's error codes"),
    (f"{G}conditionalAccessPolicy", "grantControls/operator", "Edm.String: AND or OR"),
)
#: Types the code recognises in `@odata.type` (group members, trustee resolution).
ODATA_TYPES = (("user", "assess/groups.py"), ("group", "assess/groups.py"))


def _declared_type(schema: Schema, type_name: str, path: str) -> str:
    current = type_name
    for step in path.split("/"):
        current = schema.members(element_type(current)[0])[step]
    return element_type(current)[0]


@pytest.mark.parametrize("row", COMPARED, ids=lambda r: f"{r.type.rsplit('.', 1)[1]}.{r.property}")
def test_a_compared_value_is_one_the_property_can_hold(schema: Schema, row: Compared) -> None:
    text = (SOURCE_ROOT / row.module).read_text(encoding="utf-8")
    assert all(f'"{value}"' in text for value in row.values), (
        f"{row.module} no longer holds {row.values}: update this table")
    assert schema.property_path(row.type, row.property) is None
    kind = _declared_type(schema, row.type, row.property)
    if kind not in schema.enums:
        assert kind == "Edm.String" and row.evidence, (
            f"{row.type}/{row.property} is {kind}: cite what its values are")
        return
    members = schema.enums[kind].members
    if row.folded:
        known = {name.lower() for name in members}
        missing = [v for v in row.values if v.lower() not in known]
    else:
        missing = [v for v in row.values if v not in members]
    assert missing == [], f"not members of {kind}: {missing} (members: {', '.join(members)})"


@pytest.mark.parametrize(("type_name", "path", "note"), STRINGS)
def test_a_free_string_property_is_not_an_enum(schema: Schema, type_name: str, path: str,
                                               note: str) -> None:
    assert schema.property_path(type_name, path) is None
    assert _declared_type(schema, type_name, path) in {"Edm.String", "Edm.Int32"}, note


def test_member_types_the_code_recognises_exist(schema: Schema) -> None:
    for name, module in ODATA_TYPES:
        assert f'"{name}"' in (SOURCE_ROOT / module).read_text(encoding="utf-8")
        assert f"{G}{name}" in schema.types
        assert schema.is_a(f"{G}{name}", f"{G}directoryObject")


def test_the_audit_query_type_the_collector_names_exists(schema: Schema) -> None:
    text = (SOURCE_ROOT / "collect/logs.py").read_text(encoding="utf-8")
    assert '"#microsoft.graph.security.auditLogQuery"' in text
    assert f"{G}security.auditLogQuery" in schema.types



def test_the_record_types_collected_are_the_ones_detection_keeps() -> None:
    """Detection keeps Exchange records by a case-insensitive prefix of the record type,
    so the schema's PascalCase members are kept as the camelCase names were."""
    assert "record_type, '') ILIKE 'exchange%'" in SKIP_CONDITION
    assert all(name.lower().startswith("exchange") for name in EXCHANGE_RECORD_TYPES)
