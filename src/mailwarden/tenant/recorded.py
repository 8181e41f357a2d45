"""The recorded tenant directory (SPEC section 4): raw files in Microsoft's own shapes.

This module only moves raw JSON between disk and memory. It is lenient the way
PowerShell output is (a single object where an array is expected, JSON Lines, a UTF-8
byte-order mark) and strict about one thing: a file that is absent or failed to collect
is a *missing source*, never an empty list. Parsing into typed values is `parse.py`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mailwarden.errors import InputError
from mailwarden.files import (
    make_private_dirs,
    read_regular_text,
    write_private_lines,
    write_private_text,
)
from mailwarden.gcpause import cyclic_gc_paused

#: Sources holding a JSON array of objects, by path relative to the directory, without ".json".
LIST_SOURCES: tuple[str, ...] = (
    "graph/users",
    "graph/groups",
    "graph/roleAssignments",
    "graph/roleDefinitions",
    "graph/conditionalAccessPolicies",
    "graph/settings",
    "graph/userRegistrationDetails",
    "graph/roleEligibilitySchedules",
    "graph/subscribedSkus",
    "graph/servicePrincipals",
    "exo/Get-Mailbox",
    "exo/Get-CASMailbox",
    "exo/Get-MailboxPermission",
    "exo/Get-RecipientPermission",
    "exo/Get-User",
    "exo/Get-InboxRule",
    "exo/Get-CalendarProcessing",
    "exo/Get-MailboxStatistics",
    "exo/Get-MailboxAuditBypassAssociation",
    "exo/Get-AuthenticationPolicy",
    "exo/Get-MailContact",
    "exo/Get-MailUser",
    "exo/Get-ApplicationAccessPolicy",
    "exo/Get-ManagementRoleAssignment",
)
#: Sources holding one JSON object.
OBJECT_SOURCES: tuple[str, ...] = (
    "tenant",
    "graph/groupMembers",
    "exo/Get-OrganizationConfig",
    "exo/Get-TransportConfig",
    "graph/securityDefaults",
    "graph/appRoleAssignedTo",
)
ALL_SOURCES: tuple[str, ...] = OBJECT_SOURCES + LIST_SOURCES

#: Where failed sources are recorded, with the error each one met.
ERRORS_FILE = "errors.json"
#: Where the sources (or parts, such as users' signInActivity) a licence withheld are
#: recorded, with the reason: `{"<source>": {"reason": "needs Entra ID P1 (...)"}}`.
LIMITATIONS_FILE = "limitations.json"
#: In an errors.json entry: mailbox identity -> error, for a per-mailbox source whose
#: calls failed for some mailboxes only (the source itself was collected).
MAILBOXES_KEY = "mailboxes"


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedTenant:
    """Raw content of a recorded tenant: source name -> decoded JSON, plus failed sources.

    A source absent from `data` is missing; a source in `errors` failed to collect
    (and is absent from `data`). `limitations` names what a licence the tenant lacks kept
    from being read (a whole source, absent from `data`, or a part of one, such as
    `model.inventory.SIGN_IN_ACTIVITY`), with the reason: not a failure, but not data.
    `mailbox_errors` holds, for a per-mailbox source that was
    collected, the mailboxes whose calls failed: source -> mailbox identity -> error.
    """

    data: Mapping[str, Any]
    errors: Mapping[str, str] = field(default_factory=dict)
    limitations: Mapping[str, str] = field(default_factory=dict)
    mailbox_errors: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def missing(self, source: str) -> bool:
        return source not in self.data

    def problem(self, source: str) -> str | None:
        """Why a source cannot be used, or None when it is present."""
        if source in self.errors:
            return self.errors[source]
        if source in self.limitations:
            return self.limitations[source]
        if source not in self.data:
            return f"{source}.json was not collected"
        return None

    def __repr__(self) -> str:
        # A summary: the full data of a large tenant is megabytes, and asyncio and anyio
        # put the repr of a task's awaited result into their messages (anyio on every
        # cancelled scope, which httpx's timeouts are), so a full one costs every request.
        return (f"RecordedTenant({len(self.data)} sources, {len(self.errors)} failed, "
                f"{len(self.limitations)} limited, {len(self.mailbox_errors)} with mailbox "
                "errors)")


def _decode(path: Path) -> Any:
    try:
        # Only a regular file of bounded size: a FIFO would hang the read and a link to
        # /dev/zero would fill memory.
        text = read_regular_text(path)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc}); re-export it as UTF-8") from exc
    if not text or text.isspace():
        raise InputError(f"{path}: the file is empty; re-collect it or delete it")
    try:
        # Whole-file JSON, without first copying hundreds of megabytes to strip them: a
        # text json accepts differs from its stripped copy only by JSON whitespace.
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    stripped = text.strip()  # as before, for the same values and line numbers
    try:
        return json.loads(stripped)
    except json.JSONDecodeError as whole_error:
        # JSON Lines: one value per line.
        values = []
        for number, line in enumerate(stripped.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                values.append(json.loads(line))
            except json.JSONDecodeError as exc:
                if number == 1:
                    raise InputError(
                        f"{path}: line {whole_error.lineno}, column {whole_error.colno}: "
                        f"not valid JSON ({whole_error.msg}); fix or re-export the file"
                    ) from whole_error
                raise InputError(
                    f"{path}: line {number}: not valid JSON ({exc.msg}); fix or re-export the file"
                ) from exc
        return values


def is_response_page(value: Any) -> bool:
    """A raw Graph or Exchange answer saved as-is: `value` is a list and every other member
    is an OData annotation (`@odata.context`, `@odata.nextLink`, `@adminapi.warnings`,
    `adminapi.warnings@odata.type`, ...), which names carry an "@"."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("value"), list)
        and all("@" in str(key) for key in value if key != "value")
    )


def as_object_list(value: Any) -> list[Any]:
    """PowerShell's ConvertTo-Json writes a lone object where an array is expected."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if is_response_page(value):
        return list(value["value"])
    return [value]


class _NoObject(Exception):
    """A single-object source saved as an answer page without the object."""


def _read_source(source: str, path: Path) -> Any:
    value = _decode(path)
    if source in LIST_SOURCES:
        return as_object_list(value)
    if is_response_page(value):
        # The Exchange admin API answers even a single object (Get-OrganizationConfig) as
        # a page whose `value` holds it.
        value = value["value"]
        if not value:
            raise _NoObject(f"{path.name} is an answer that holds no object")
        if len(value) > 1:
            raise InputError(
                f"{path}: a response page with {len(value)} objects where one object is "
                "expected; re-collect it or save the one object"
            )
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def read_recorded_tenant(directory: Path) -> RecordedTenant:
    """Read every known source that exists under `directory`."""
    if not directory.is_dir():
        raise InputError(f"{directory}: not a directory; pass a recorded tenant directory")
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    with cyclic_gc_paused():
        for source in ALL_SOURCES:
            path = directory / f"{source}.json"
            if path.exists():
                try:
                    data[source] = _read_source(source, path)
                except _NoObject as exc:
                    errors[source] = str(exc)
    mailbox_errors: dict[str, dict[str, str]] = {}
    errors_path = directory / ERRORS_FILE
    if errors_path.exists():
        raw_errors = _decode(errors_path)
        if not isinstance(raw_errors, dict):
            raise InputError(f"{errors_path}: expected an object of source -> error message")
        for source, detail in raw_errors.items():
            failed = _mailbox_failures(errors_path, str(source), detail)
            if failed is not None:
                mailbox_errors[str(source)] = failed
                continue
            message = detail.get("error") if isinstance(detail, dict) else detail
            errors[str(source)] = str(message)
            data.pop(str(source), None)
    limitations = _read_limitations(directory / LIMITATIONS_FILE)
    if not data and not errors:
        raise InputError(
            f"{directory}: no recorded tenant files found (expected tenant.json, graph/, exo/)"
        )
    return RecordedTenant(data=data, errors=errors, limitations=limitations,
                          mailbox_errors=mailbox_errors)


def _read_limitations(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    raw = _decode(path)
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected an object of source -> licence limitation")
    return {
        str(source): str(detail.get("reason") if isinstance(detail, dict) else detail)
        for source, detail in raw.items()
    }


def _mailbox_failures(path: Path, source: str, detail: Any) -> dict[str, str] | None:
    """The per-mailbox failures of an entry that records only those (no "error")."""
    if not isinstance(detail, dict) or "error" in detail or MAILBOXES_KEY not in detail:
        return None
    failures = detail[MAILBOXES_KEY]
    if not isinstance(failures, dict):
        raise InputError(
            f'{path}: "{source}"."{MAILBOXES_KEY}" must be an object of mailbox -> error message'
        )
    return {str(mailbox): str(message) for mailbox, message in failures.items()}


#: One encoder for every row: `json.dumps` with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def write_json(path: Path, value: Any) -> None:
    """One array element (or object member) per line: still greppable, and written by
    json's C encoder, which `indent=` would replace by a several times slower Python one
    (a 50,000-user tenant is a few hundred megabytes)."""
    if isinstance(value, list) and value:
        text = "[\n" + ",\n".join(_dumps(item) for item in value) + "\n]"
    elif isinstance(value, dict) and value:
        text = "{\n" + ",\n".join(f"{_dumps(str(k))}: {_dumps(v)}" for k, v in value.items())
        text += "\n}"
    else:
        text = _dumps(value)
    write_private_text(path, text + "\n")


def write_json_lines(path: Path, rows: Iterable[Any]) -> None:
    write_private_lines(path, (json.dumps(row, ensure_ascii=False, default=str) + "\n"
                               for row in rows))


def write_recorded_tenant(directory: Path, tenant: RecordedTenant) -> None:
    """Write sources and the errors of failed ones. Files are created 0600."""
    unknown = set(tenant.data) - set(ALL_SOURCES)
    if unknown:
        raise ValueError(f"unknown recorded-tenant sources: {sorted(unknown)}")
    make_private_dirs(directory)
    for source, value in tenant.data.items():
        write_json(directory / f"{source}.json", value)
    if tenant.limitations:
        write_json(
            directory / LIMITATIONS_FILE,
            {source: {"reason": reason} for source, reason in sorted(tenant.limitations.items())},
        )
    entries: dict[str, dict[str, Any]] = {
        source: {MAILBOXES_KEY: dict(sorted(failed.items()))}
        for source, failed in tenant.mailbox_errors.items()
        if failed and source not in tenant.errors
    }
    entries.update({source: {"error": message} for source, message in tenant.errors.items()})
    if entries:
        write_json(directory / ERRORS_FILE, dict(sorted(entries.items())))
