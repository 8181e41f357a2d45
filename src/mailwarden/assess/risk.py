"""Risk score and attack paths of one ownerless mailbox.

Score: each failing check contributes by its (possibly raised) severity, combined so that
findings add up with diminishing returns and 100 is never exceeded:

    score = 100 * (1 - product(1 - weight))   weight: critical 0.60, high 0.30,
                                                      medium 0.15, low 0.05, info 0

and a mailbox on a sprayable path (sign-in enabled with a legacy protocol that takes a
password) scores at least 90, whatever else is true: that path alone is a takeover.
"""

from __future__ import annotations

from collections.abc import Mapping

from mailwarden.assess.checks.base import ago, days_ago
from mailwarden.assess.facts import Context, MailboxFacts
from mailwarden.model.findings import (
    AttackPath,
    Finding,
    MailboxAssessment,
    Severity,
    Status,
)
from mailwarden.text import plural

WEIGHTS = {
    Severity.CRITICAL: 0.60,
    Severity.HIGH: 0.30,
    Severity.MEDIUM: 0.15,
    Severity.LOW: 0.05,
    Severity.INFO: 0.0,
}
SPRAYABLE_FLOOR = 90
MAX_STEPS = 7


def risk_score(failing: list[Finding], sprayable: bool) -> int:
    remaining = 1.0
    for finding in failing:
        remaining *= 1.0 - WEIGHTS[finding.severity]
    score = round(100 * (1.0 - remaining))
    return min(100, max(score, SPRAYABLE_FLOOR if sprayable else 0))


class _Facts:
    """The step texts a path is built from, each present only when true."""

    def __init__(self, facts: MailboxFacts, fails: Mapping[str, Finding], context: Context):
        self.facts = facts
        self.fails = fails
        account = facts.subject.account
        self.reset = None
        if "password-reset-by-admin" in fails and account is not None:
            days = days_ago(account.last_password_change, context)
            self.reset = f"password reset by an admin {ago(days)}"
        self.signed_in = None
        if "direct-sign-in-observed" in fails and account is not None:
            days = days_ago(account.last_successful_sign_in, context)
            self.signed_in = f"someone signed in directly {ago(days)}"
        self.no_mfa = "no MFA method registered" if "no-mfa-on-enabled-account" in fails else None
        stale = [p for p in facts.access.people if p.stale_reasons()]
        leavers = [p for p in stale if p.enabled is False]
        self.leavers = None
        if leavers:
            who = "1 person who left still holds" if len(leavers) == 1 else (
                f"{len(leavers)} people who left still hold")
            self.leavers = f"{who} access"
        elif stale or facts.access.orphaned:
            count = len(stale) + len(facts.access.orphaned)
            self.leavers = (f"{plural(count, 'stale delegate')} still "
                            f"{'holds' if count == 1 else 'hold'} access")
        audit = []
        if "audit-disabled-org" in fails:
            audit.append("organisation auditing off")
        if "mailbox-audit-disabled" in fails:
            audit.append("mailbox auditing off")
        if "audit-bypass-enabled" in fails:
            audit.append("an audit bypass applies")
        self.unaudited = f"abuse goes unaudited ({', '.join(audit)})" if audit else None
        lockout = fails.get("weak-smart-lockout")
        self.lockout = None
        if lockout is not None:
            threshold = lockout.evidence.get("lockout_threshold")
            duration = lockout.evidence.get("lockout_duration_seconds")
            self.lockout = (f"smart lockout allows {_count(threshold, 'guess', 'guesses')} "
                            f"per {duration} s")

    def legacy_gate(self) -> str | None:
        legacy = self.facts.legacy
        if legacy is None or legacy.blocked is not False:
            basic = self.facts.basic
            if basic.allowed:
                return f"basic auth allowed by policy '{basic.policy}'"
            return None
        if legacy.excluded_from:
            return f"excluded from CA policy '{legacy.excluded_from[0]}'"
        return "no CA block for legacy clients"


def _count(value: object, noun: str, many: str) -> str:
    """A count taken from evidence: an int in words, anything else as it is."""
    return plural(value, noun, many) if isinstance(value, int) else f"{value} {many}"


def _path(title: str, severity: Severity, *steps: str | None) -> AttackPath:
    present = tuple(step for step in steps if step)
    return AttackPath(title=title, severity=severity, steps=present[:MAX_STEPS])


def attack_paths(
    facts: MailboxFacts, fails: Mapping[str, Finding], context: Context
) -> tuple[AttackPath, ...]:
    known = _Facts(facts, fails, context)
    paths: list[AttackPath] = []
    enabled = facts.sign_in_enabled is True
    reachable = facts.reachable_legacy()
    if enabled and reachable:
        paths.append(
            _path(
                "Password spray without MFA",
                Severity.CRITICAL,
                "sign-in enabled",
                f"{', '.join(reachable)} on",
                known.legacy_gate(),
                known.no_mfa,
                known.reset,
                known.signed_in,
                known.lockout,
                known.leavers,
                known.unaudited,
            )
        )
    elif enabled and (known.reset or known.signed_in):
        paths.append(
            _path(
                "Sign-in with a known password",
                Severity.HIGH,
                "sign-in enabled",
                known.reset,
                known.signed_in,
                known.no_mfa,
                known.leavers,
                known.unaudited,
            )
        )
    roles = fails.get("privileged-account")
    if roles is not None and enabled:
        names = ", ".join(str(r) for r in roles.evidence.get("roles", ()))
        eligible = ", ".join(str(r) for r in roles.evidence.get("eligible_roles", ()))
        paths.append(
            _path(
                "Administrator nobody owns",
                Severity.CRITICAL,
                "sign-in enabled",
                f"holds {names}" if names else None,
                f"eligible for {eligible}" if eligible else None,
                known.no_mfa,
                known.reset,
                known.unaudited,
            )
        )
    if "stale-delegate" in fails:
        people = [p.upn for p in facts.access.people if p.stale_reasons()]
        orphans = len(facts.access.orphaned)
        paths.append(
            _path(
                "Access kept after leaving",
                Severity.HIGH,
                known.leavers,
                ", ".join(people[:3]) + (" ..." if len(people) > 3 else "") or None,
                ("1 grant to a deleted account" if orphans == 1
                 else f"{orphans} grants to deleted accounts") if orphans else None,
                known.unaudited,
            )
        )
    if "broad-delegation" in fails:
        reasons = [g.broad_reason for g in facts.access.broad if g.broad_reason]
        count = len(facts.access.people)
        paths.append(
            _path(
                "Open to too many people",
                Severity.HIGH,
                reasons[0] if reasons else plural(count, "delegate"),
                known.unaudited,
            )
        )
    forwarding = fails.get("external-forwarding")
    if forwarding is not None:
        targets = [str(t.get("address")) for t in forwarding.evidence.get("external", ())]
        paths.append(
            _path(
                "Mail leaves the organisation",
                Severity.HIGH,
                f"mail forwarded to {', '.join(targets[:2])}",
                "an inbox rule hides mail" if "hiding-inbox-rule" in fails else None,
                known.unaudited,
            )
        )
    return tuple(sorted(paths, key=lambda p: -p.severity.rank))


#: Tenant-wide failures that belong in every mailbox's attack paths (not in its score).
TENANT_FACTS = ("audit-disabled-org", "weak-smart-lockout")


def assess_mailbox(
    facts: MailboxFacts,
    findings: list[Finding],
    tenant_findings: Mapping[str, Finding],
    context: Context,
) -> MailboxAssessment:
    fails = {f.check_id: f for f in findings if f.status is Status.FAIL}
    failing = sorted(fails.values(), key=lambda f: (-f.severity.rank, f.check_id))
    known = {
        check_id: finding
        for check_id in TENANT_FACTS
        if (finding := tenant_findings.get(check_id)) is not None and finding.failed
    }
    return MailboxAssessment(
        upn=facts.subject.upn,
        kind=facts.subject.kind,
        display_name=facts.subject.mailbox.display_name,
        risk_score=risk_score(failing, facts.sprayable),
        attack_paths=attack_paths(facts, {**known, **fails}, context),
        failing=tuple(f.check_id for f in failing),
        errors=tuple(f.check_id for f in findings if f.status is Status.ERROR),
        custodian=facts.custodian,
    )
