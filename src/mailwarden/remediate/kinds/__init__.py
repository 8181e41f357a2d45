"""The action kinds remediation knows, one module each, registered here by name.

    for action in build_actions(target): ...      # a mailbox's failing findings -> actions
    kind = kind_of(action)                         # its read, satisfied and undo

`KINDS` is in the order the actions of one mailbox are planned (and shown, exported and
applied): sign-in first, then protocols, auditing, delegates, forwarding, rules, and
PowerShell; a plan puts a mailbox's actions for its worst findings first, keeping this order
among equals. The conditional-access kinds build their actions for the whole tenant
(`remediate.ca_actions.grouped_actions`), never one per mailbox. A kind is added by writing
its module (build, read, satisfied, undo; `script`, how the exported PowerShell reads and
guards its change; `describe`, its one-line summary) and naming it here; tests check that
every `ActionKind` is registered once and that every kind has a `script`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mailwarden.model.findings.evidence import EvidenceError
from mailwarden.remediate.errors import FindingEvidenceError
from mailwarden.remediate.kinds import (
    add_app_access_policy,
    add_audit_actions,
    block_sign_in,
    ca_create_legacy_block,
    ca_remove_exclusion,
    disable_inbox_rule,
    disable_protocols,
    disable_remote_powershell,
    enable_mailbox_audit,
    reject_direct_send,
    reject_external_booking,
    remove_app_grant,
    remove_delegate,
    remove_forwarding,
    remove_room_delegate,
)
from mailwarden.remediate.kinds.base import AppScope, Kind, State, Target
from mailwarden.remediate.model import Action, ActionKind

KINDS: tuple[Kind, ...] = (
    block_sign_in.KIND,
    disable_protocols.KIND,
    enable_mailbox_audit.KIND,
    add_audit_actions.KIND,
    remove_delegate.KIND,
    remove_forwarding.KIND,
    disable_inbox_rule.KIND,
    disable_remote_powershell.KIND,
    reject_external_booking.KIND,
    remove_room_delegate.KIND,
    ca_remove_exclusion.KIND,
    ca_create_legacy_block.KIND,
    reject_direct_send.KIND,
    add_app_access_policy.KIND,
    remove_app_grant.KIND,
)
BY_KIND: Mapping[ActionKind, Kind] = MappingProxyType({k.kind: k for k in KINDS})
#: Checks some action answers; the plan lists the other failures as manual work.
AUTOMATED = frozenset(check for kind in KINDS for check in kind.answers)


def kind_of(action: Action) -> Kind:
    return BY_KIND[action.kind]


def describe(action: Action) -> str:
    """One short line saying what the action changes; its calls when the kind has none."""
    summary = kind_of(action).describe
    return summary(action) if summary is not None else "; ".join(c.text() for c in action.calls)


def build_actions(target: Target) -> list[Action]:
    """Every action the failing findings of `target` call for, kind by kind."""
    try:
        return [action for kind in KINDS for action in kind.build(target)]
    except EvidenceError as exc:
        raise FindingEvidenceError(str(exc)) from exc


__all__ = ["AUTOMATED", "BY_KIND", "KINDS", "AppScope", "Kind", "State", "Target",
           "build_actions", "describe", "kind_of"]
