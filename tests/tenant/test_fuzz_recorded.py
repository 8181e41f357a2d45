"""Fuzzing the recorded-tenant reader: whatever its source files hold, reading the tenant
either refuses cleanly (`InputError`, naming the file) or gives a snapshot in which every
record of a list source is parsed or skipped with a reason.

Records are real-shaped (a small synthetic tenant's), then mutated: fields dropped or of
the wrong type, huge and odd strings, records that are not objects; written as a JSON
array, JSON Lines, a saved response page or a lone object, with or without a byte-order
mark, and sometimes cut short or given a byte that is not UTF-8. Bounded for CI as the
log readers' fuzz is (`tests/detect/test_fuzz_readers.py`; the same
`MAILWARDEN_TEST_FUZZ_EXAMPLES` runs it longer).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mailwarden.errors import InputError
from mailwarden.synth import generate
from mailwarden.tenant.recorded import is_response_page
from mailwarden.tenant.snapshot import load_snapshot, skipped_counts

EXAMPLES = int(os.environ.get("MAILWARDEN_TEST_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=EXAMPLES or 40, deadline=None, derandomize=True, database=None,
                phases=tuple(Phase) if EXAMPLES else (Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.large_base_example])

#: List sources and the snapshot field each one's parsed records go to, one for one.
LISTS = {
    "graph/users": "accounts", "graph/groups": "groups",
    "graph/roleAssignments": "role_assignments", "graph/roleDefinitions": "role_definitions",
    "graph/conditionalAccessPolicies": "ca_policies", "graph/settings": "directory_settings",
    "graph/userRegistrationDetails": "registrations",
    "graph/roleEligibilitySchedules": "role_eligibilities",
    "graph/subscribedSkus": "subscribed_skus", "exo/Get-Mailbox": "mailboxes",
    "exo/Get-CASMailbox": "cas_mailboxes", "exo/Get-User": "exo_users",
    "exo/Get-MailboxAuditBypassAssociation": "audit_bypass",
    "exo/Get-MailContact": "mail_contacts", "exo/Get-MailUser": "mail_users",
    "exo/Get-MailboxPermission": "mailbox_permissions",
    "exo/Get-RecipientPermission": "recipient_permissions", "exo/Get-InboxRule": "inbox_rules",
    "exo/Get-AuthenticationPolicy": "authentication_policies",
}
OBJECTS = ("graph/groupMembers", "exo/Get-OrganizationConfig", "exo/Get-TransportConfig",
           "graph/securityDefaults")
BASE: dict[str, Any] = dict(generate(60, 0).recorded.data)

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**64),
                         st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)),
    max_leaves=12)
odd_values = st.one_of(
    json_values,
    st.sampled_from(["", " ", "\u0000", "\u202e", "\ufeff", "null", "True", "$true", "0",
                     "-1", "2026-13-45T99:99:99Z", "/Date(1772442000000)/",
                     "/Date(-99999999999999999)/", "9999-12-31T23:59:59Z",
                     "00000000-0000-0000-0000-000000000000", "@", "a@b@c", "NT AUTHORITY\\SELF",
                     "S-1-5-10", "FullAccess, ReadPermission", "Enabled", "\\U0001d54f" * 20]),
    st.integers(1, 70_000).map(lambda n: "x" * n),
)


@st.composite
def mutated(draw: st.DrawFn, source: str) -> Any:
    record = dict(draw(st.sampled_from(BASE[source][:8])))
    keys = list(record)
    for key in draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)):
        if draw(st.booleans()):
            del record[key]
        else:
            record[key] = draw(odd_values)
    if draw(st.integers(0, 3)) == 0:
        record[draw(st.sampled_from([k.upper() for k in keys] + ["value", "@odata.type"]))] = \
            draw(odd_values)
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)  # not an object
    return record


@st.composite
def source_files(draw: st.DrawFn, source: str) -> tuple[bytes, int | None]:
    """A list source's file, and how many records it holds when that is knowable."""
    rows = draw(st.lists(mutated(source), max_size=6))
    shape = draw(st.sampled_from(["array", "lines", "page", "lone"]))
    if shape == "lone" and len(rows) == 1:
        text = json.dumps(rows[0])
        knowable = isinstance(rows[0], dict) and not is_response_page(rows[0])
    elif shape == "lines" and len(rows) > 1:
        text = "\n".join(json.dumps(row) for row in rows) + "\n"
        knowable = True
    elif shape == "page":
        text = json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata",
                           "value": rows})
        knowable = True
    else:
        text = json.dumps(rows, indent=draw(st.sampled_from([None, 2])))
        knowable = True
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    damage = draw(st.sampled_from(["none", "none", "none", "cut", "bad-utf8"]))
    if damage == "cut":
        data = data[:draw(st.integers(0, len(data)))]
        knowable = False
    elif damage == "bad-utf8":
        at_byte = draw(st.integers(0, len(data)))
        data = data[:at_byte] + b"\xff" + data[at_byte:]
    return data, len(rows) if knowable else None


@st.composite
def tenants(draw: st.DrawFn) -> dict[str, tuple[bytes, int | None]]:
    files: dict[str, tuple[bytes, int | None]] = {}
    for source in draw(st.lists(st.sampled_from(sorted(LISTS)), min_size=1, max_size=3,
                                unique=True)):
        files[source] = draw(source_files(source))
    for source in draw(st.lists(st.sampled_from(OBJECTS), max_size=1)):
        value = dict(BASE[source])
        for key in draw(st.lists(st.sampled_from(sorted(value) or ["x"]), max_size=2)):
            value[key] = draw(odd_values)
        files[source] = (json.dumps(value).encode(), None)
    return files


@FUZZ
@given(files=tenants())
def test_every_record_of_a_recorded_tenant_is_parsed_or_skipped(
        files: dict[str, tuple[bytes, int | None]]) -> None:
    with tempfile.TemporaryDirectory(prefix="mailwarden-fuzz-") as work:
        directory = Path(work)
        (directory / "tenant.json").write_text(json.dumps(BASE["tenant"]), encoding="utf-8")
        for source, (data, _) in files.items():
            path = directory / f"{source}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        try:
            snapshot = load_snapshot(directory)
        except InputError as exc:  # the clean refusal: one line naming the file
            assert "\n" not in str(exc).strip() and str(directory) in str(exc)
            return
    skipped = skipped_counts(snapshot.skipped)
    for source, (_, count) in files.items():
        if count is not None and source in LISTS:
            parsed = len(getattr(snapshot, LISTS[source]))
            assert parsed + skipped.get(source, 0) == count, (source, snapshot.skipped)
