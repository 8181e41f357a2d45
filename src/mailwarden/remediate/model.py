"""What a remediation plan is made of: calls, actions and the plan itself.

An `Action` is one change to one mailbox or account, with the exact calls that make it.
Actions are plain data so that a plan can be shown, exported, journalled, and rebuilt
from the journal for a rollback without the snapshot it came from.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ActionKind(StrEnum):
    BLOCK_SIGN_IN = "block-sign-in"
    DISABLE_PROTOCOLS = "disable-protocols"
    ENABLE_MAILBOX_AUDIT = "enable-mailbox-audit"
    ADD_AUDIT_ACTIONS = "add-audit-actions"
    REMOVE_DELEGATE = "remove-delegate"
    REMOVE_FORWARDING = "remove-forwarding"
    DISABLE_REMOTE_POWERSHELL = "disable-remote-powershell"
    DISABLE_INBOX_RULE = "disable-inbox-rule"
    REJECT_EXTERNAL_BOOKING = "reject-external-booking"
    REMOVE_ROOM_DELEGATE = "remove-room-delegate"
    CA_REMOVE_EXCLUSION = "ca-remove-exclusion"
    CA_CREATE_LEGACY_BLOCK = "ca-create-legacy-block"
    REJECT_DIRECT_SEND = "reject-direct-send"
    ADD_APP_ACCESS_POLICY = "add-app-access-policy"
    REMOVE_APP_GRANT = "remove-app-grant"


@dataclass(frozen=True, slots=True, kw_only=True)
class GraphCall:
    """A Microsoft Graph request; `path` is relative to the version (`/users/{id}`)."""

    method: str
    path: str
    body: Mapping[str, Any] | None = None
    version: str = "v1.0"

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"service": "graph", "method": self.method, "path": self.path}
        if self.body is not None:
            data["body"] = dict(self.body)
        if self.version != "v1.0":
            data["version"] = self.version
        return data

    def text(self) -> str:
        body = f" {json.dumps(dict(self.body))}" if self.body is not None else ""
        return f"{self.method} /{self.version}{self.path}{body}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExoCall:
    """An Exchange Online cmdlet run through the admin API (`InvokeCommand`).

    A multi-valued parameter changed in place is a mapping {"Add": [...]} or
    {"Remove": [...]}, the JSON form of PowerShell's @{Add=...} hashtable.
    """

    cmdlet: str
    parameters: Mapping[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"service": "exchange", "cmdlet": self.cmdlet, "parameters": dict(self.parameters)}

    def text(self) -> str:
        return f"{self.cmdlet} {json.dumps(dict(self.parameters), ensure_ascii=False)}"


Call = GraphCall | ExoCall


def call_from_dict(data: Mapping[str, Any]) -> Call:
    if data.get("service") == "graph":
        return GraphCall(
            method=str(data["method"]),
            path=str(data["path"]),
            body=data.get("body"),
            version=str(data.get("version") or "v1.0"),
        )
    return ExoCall(cmdlet=str(data["cmdlet"]), parameters=dict(data.get("parameters") or {}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    """A failing finding an action answers."""

    check_id: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Action:
    """One change to one target. `detail` holds what the kind needs to read the current
    state and to undo the change (parameters, trustee, rule identity, ...)."""

    id: str
    kind: ActionKind
    upn: str  # the mailbox (lower case); "" for a change to the tenant or an application
    account_id: str | None
    calls: tuple[Call, ...]
    reasons: tuple[Reason, ...]
    breaks: str  # what might stop working
    detail: Mapping[str, Any] = field(default_factory=dict)
    reversible: bool = True
    note: str | None = None  # e.g. why part of the change cannot be undone

    @property
    def check_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.check_id for r in self.reasons))

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind.value,
            "upn": self.upn,
            "account_id": self.account_id,
            "calls": [c.as_dict() for c in self.calls],
            "reasons": [{"check_id": r.check_id, "message": r.message} for r in self.reasons],
            "breaks": self.breaks,
            "detail": dict(self.detail),
            "reversible": self.reversible,
        }
        if self.note:
            data["note"] = self.note
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        return cls(
            id=str(data["id"]),
            kind=ActionKind(data["kind"]),
            upn=str(data["upn"]),
            account_id=data.get("account_id"),
            calls=tuple(call_from_dict(c) for c in data.get("calls") or ()),
            reasons=tuple(
                Reason(check_id=str(r["check_id"]), message=str(r["message"]))
                for r in data.get("reasons") or ()
            ),
            breaks=str(data.get("breaks") or ""),
            detail=dict(data.get("detail") or {}),
            reversible=bool(data.get("reversible", True)),
            note=data.get("note"),
        )


def action_id(kind: ActionKind, upn: str, *parts: str) -> str:
    """A short id that stays the same for the same change, whatever else the plan holds,
    so that `plan`, `export` and `apply --action` agree."""
    text = "\x1f".join((kind.value, upn.lower(), *(p.lower() for p in parts)))
    return hashlib.sha256(text.encode()).hexdigest()[:10]


@dataclass(frozen=True, slots=True, kw_only=True)
class Skipped:
    """A mailbox a guard rail kept out of the plan, and why."""

    upn: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    tenant_id: str
    tenant_name: str | None
    default_domain: str | None
    collected_at: datetime | None
    actions: tuple[Action, ...]
    skipped: tuple[Skipped, ...] = ()
    # The tenant's *.onmicrosoft.com domain: app-only Exchange sign-in names the organization
    # by it (Connect-ExchangeOnline -Organization).
    initial_domain: str | None = None
    manual: tuple[Reason, ...] = ()  # failing checks no action answers (shown, not applied)
    #: Parallel to `manual`: the mailbox, "" for the tenant, "application <name> (<appId>)"
    #: for an application.
    manual_upns: tuple[str, ...] = ()

    def select(self, ids: tuple[str, ...]) -> Plan:
        """The plan restricted to the actions named (every id must exist)."""
        from mailwarden.remediate.errors import UnknownActionError

        known = {a.id for a in self.actions}
        missing = [i for i in ids if i not in known]
        if missing:
            raise UnknownActionError(
                f"no action {', '.join(missing)} in this plan; `mailwarden remediate plan` "
                "lists the action ids"
            )
        wanted = set(ids)
        return Plan(
            tenant_id=self.tenant_id,
            tenant_name=self.tenant_name,
            default_domain=self.default_domain,
            collected_at=self.collected_at,
            actions=tuple(a for a in self.actions if a.id in wanted),
            skipped=self.skipped,
            initial_domain=self.initial_domain,
            manual=self.manual,
            manual_upns=self.manual_upns,
        )
