"""Least privilege from the audit log: grants nobody has used for the window
(`assess.usage` says how each grant is judged, and when the log cannot tell)."""

from __future__ import annotations

from mailwarden.assess.checks.base import ACCESS, MAILBOXES, Check, Verdict, errored, failed, passed
from mailwarden.assess.checks.delegation import REMOVE_GRANTS, removal
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.model.controls import mapped
from mailwarden.model.findings import CheckInfo, GrantUse, Scope, Severity, UseState
from mailwarden.model.findings.evidence import DormantGrant, DormantGrants
from mailwarden.text import plural
from mailwarden.times import iso

_SHOWN = 5

DORMANT = CheckInfo(
    id="dormant-delegate",
    title="A delegate has not used their access for months",
    severity=Severity.MEDIUM,
    scope=Scope.MAILBOX,
    passes="Every FullAccess, SendAs and SendOnBehalf grant (directly or through a group) was "
    "used inside the window (90 days by default), by the Unified Audit Log.",
    fails="A grant was not used inside the window although the audit log covers all of it "
    "and would have recorded a use (auditing on, the delegate actions audited, no bypass).",
    needs=(MAILBOXES,),
    # Besides these, the Unified Audit Log under logs/ (`assess(usage=)`, `detect.usage`).
    uses=(*ACCESS, "exo/Get-OrganizationConfig", "exo/Get-MailboxAuditBypassAssociation"),
    fields=("exo/Get-Mailbox:AuditEnabled", "exo/Get-Mailbox:AuditDelegate",
            "exo/Get-OrganizationConfig:AuditDisabled"),
    # CIS Controls v8 6.2 (establish an access revoking process) covers removing access a
    # person no longer needs; no CIS M365 or SCuBA control addresses unused delegation.
    controls=mapped("CIS Controls v8 6.2"),
    remediation=REMOVE_GRANTS,
    risk="Access nobody uses is access nobody would miss, but an attacker who takes over the "
    "delegate's account reads or sends as the mailbox all the same.",
)


def _line(use: GrantUse) -> str:
    who = use.name or use.trustee
    return f"{use.right} to {who} ({use.describe()})"


def _summary(lines: list[str]) -> str:
    shown = "; ".join(lines[:_SHOWN])
    return shown + (f"; and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else "")


def _row(use: GrantUse) -> dict[str, object]:
    return {"right": use.right, "trustee": use.trustee, "name": use.name,
            "kind": use.kind.value, "state": use.state.value,
            "last_used": iso(use.last_used) if use.last_used else None,
            "operation": use.operation, "used_by": use.used_by, "reason": use.reason}


def dormant(facts: MailboxFacts, context: Context) -> Verdict:
    upn = facts.subject.upn
    uses = facts.access.usage
    days = context.options.dormant_days
    idle = [u for u in uses if u.state is UseState.DORMANT]
    unknown = [u for u in uses if u.state is UseState.UNKNOWN]
    evidence: dict[str, object] = {"window_days": days, "grants": [_row(u) for u in uses]}
    if context.usage is not None:
        coverage = context.usage.coverage
        evidence["audit_log"] = {
            "records": coverage.records,
            "first": iso(coverage.first) if coverage.first else None,
            "last": iso(coverage.last) if coverage.last else None,
            "requested_from": iso(coverage.requested_from) if coverage.requested_from else None,
        }
    if idle:
        typed = DormantGrants(window_days=days, dormant=tuple(
            DormantGrant(right=u.right, trustee=u.trustee, name=u.name,
                         last_used=iso(u.last_used) if u.last_used else None) for u in idle))
        note = f" {plural(len(unknown), 'other grant')} cannot be judged." if unknown else ""
        return failed(
            f"{plural(len(idle), 'grant')} on {upn} {'was' if len(idle) == 1 else 'were'} not "
            f"used in {days} days: {_summary([_line(u) for u in idle])}.{note}",
            {**evidence, **typed.as_evidence()},
            commands=tuple(dict.fromkeys(removal(upn, u.right, u.trustee) for u in idle)),
        )
    if unknown:
        reasons = list(dict.fromkeys(u.reason or "unknown" for u in unknown))
        verb = "was" if len(unknown) == 1 else "were"
        return errored(
            f"Whether {plural(len(unknown), 'grant')} on {upn} {verb} used in the last {days} "
            f"days cannot be told: {'; '.join(reasons[:3])}.",
            evidence,
            unknown=[_line(u) for u in unknown],
        )
    if facts.access.unknown:
        return errored(f"The delegates of {upn} are not fully known.", evidence,
                       unknown=list(facts.access.unknown))
    if not uses:
        return passed(f"{upn} has no FullAccess, SendAs or SendOnBehalf grant to judge.",
                      evidence)
    return passed(
        f"Every grant on {upn} was used in the last {days} days "
        f"({plural(len(uses), 'grant')}).",
        evidence,
    )


CHECKS = (Check(info=DORMANT, mailbox=dormant),)
