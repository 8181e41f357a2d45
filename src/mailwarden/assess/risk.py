"""Risk of one ownerless mailbox: its score, what the score is made of, its attack paths,
its blast radius, and the one order every output ranks mailboxes in.

Score (exposure): each failing check that still counts contributes by its (possibly raised)
severity, combined so that findings add up with diminishing returns and 100 is never
exceeded:

    score = 100 * (1 - product(1 - weight))   weight: critical 0.60, high 0.30,
                                                      medium 0.15, low 0.05, info 0

and a mailbox on a sprayable path (sign-in enabled with a legacy protocol that takes a
password) scores at least 90, whatever else is true: that path alone is a takeover.

A failing check counts only while its precondition holds. A check whose harm is someone
signing in as the account (`NEEDS_SIGN_IN`) drops out while sign-in is blocked: Entra ID
refuses every sign-in of an account whose accountEnabled is false, whatever the protocol
(AADSTS50057, "The user account is disabled",
https://learn.microsoft.com/entra/identity-platform/reference-error-codes; blocking sign-in
is Microsoft's advice for shared mailboxes, whose delegates keep their access,
https://learn.microsoft.com/microsoft-365/admin/email/about-shared-mailboxes). A gate to
password protocols (`PASSWORD_GATES`) drops out while no protocol that takes a password is on
for the mailbox. A precondition nobody could read (sign-in state or a protocol unknown) is
not taken as fixed: the check counts, and the factors say it is unknown.

Rank (`risk_order`): mailboxes with active evidence (open alerts of high or critical
severity on them) rank above every mailbox that is only exposed, ordered by their evidence
(more critical kinds of evidence first, then more high ones), then by score; exposed mailboxes
by score. Ties are broken by blast radius (delegates, then external reach, then roles), then
by address. The terminal, the HTML report and findings.json all use `ranked`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from mailwarden.assess.checks.base import ago, days_ago
from mailwarden.assess.facts import LEGACY_PROTOCOLS, Context, MailboxFacts
from mailwarden.model.findings import (
    ActiveEvidence,
    AttackPath,
    BlastRadius,
    FactorEffect,
    Finding,
    MailboxAssessment,
    Right,
    RiskFactor,
    ScanResult,
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

#: Checks whose harm needs someone to sign in as the mailbox's own account: a password
#: that is known or guessable, a protocol or policy that takes one, a role used by signing in.
NEEDS_SIGN_IN = frozenset({
    "sign-in-enabled", "resource-account-enabled", "direct-sign-in-observed",
    "password-reset-by-admin", "no-mfa-on-enabled-account", "imap-enabled", "pop-enabled",
    "ews-enabled", "activesync-enabled", "smtp-auth-enabled", "basic-auth-allowed",
    "legacy-auth-not-blocked", "privileged-account", "remote-powershell-enabled",
})
#: Checks that open a way for a password into the protocols: they matter only while one of
#: those protocols (IMAP, POP, EWS, ActiveSync, SMTP AUTH) is on for the mailbox.
PASSWORD_GATES = frozenset({"legacy-auth-not-blocked", "basic-auth-allowed"})
#: Rights that let a delegate read the mailbox or send as it.
DELEGATE_RIGHTS = frozenset({Right.FULL_ACCESS, Right.SEND_AS, Right.SEND_ON_BEHALF})


def risk_score(failing: list[Finding], sprayable: bool) -> int:
    remaining = 1.0
    for finding in failing:
        remaining *= 1.0 - WEIGHTS[finding.severity]
    score = round(100 * (1.0 - remaining))
    return min(100, max(score, SPRAYABLE_FLOOR if sprayable else 0))


def _password_protocols(facts: MailboxFacts) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(protocols on, protocols unknown) among those that take a password."""
    on: list[str] = []
    unknown: list[str] = []
    for label, attribute, _ in LEGACY_PROTOCOLS:
        value = facts.protocol(attribute)
        (unknown if value is None else on if value else []).append(label)
    smtp = facts.smtp.enabled
    (unknown if smtp is None else on if smtp else []).append("SMTP AUTH")
    return tuple(on), tuple(unknown)


def _preconditions(check_id: str, facts: MailboxFacts) -> tuple[list[str], list[str]]:
    """(why the check's precondition is fixed, what about it is unknown); both empty when
    the check simply counts."""
    fixed: list[str] = []
    unknown: list[str] = []
    if check_id in NEEDS_SIGN_IN:
        sign_in = facts.sign_in_enabled
        if sign_in is False:
            fixed.append("sign-in is blocked, so no password gets in")
        elif sign_in is None:
            unknown.append("whether the account can sign in is unknown")
    if check_id in PASSWORD_GATES:
        on, unread = _password_protocols(facts)
        if not on and not unread:
            fixed.append("no protocol that takes a password is on "
                         "(IMAP, POP, EWS, ActiveSync and SMTP AUTH are off)")
        elif not on:
            unknown.append(f"whether {', '.join(unread)} "
                           f"{'is' if len(unread) == 1 else 'are'} on is unknown")
    return fixed, unknown


def _factor(finding: Finding, facts: MailboxFacts) -> RiskFactor:
    """Whether one failing check counts toward the score, and why. A precondition known to
    be fixed takes it out; one that is unknown leaves it in, said as such."""
    fixed, unknown = _preconditions(finding.check_id, facts)
    weight = f"{finding.severity.value}, weight {WEIGHTS[finding.severity]:.2f}"
    if fixed:
        effect, detail = FactorEffect.NOT_COUNTED, f"not counted: {'; '.join(fixed)}"
    elif unknown:
        effect, detail = FactorEffect.UNKNOWN, f"counted ({weight}): {'; '.join(unknown)}"
    else:
        effect, detail = FactorEffect.COUNTED, f"counted ({weight})"
    return RiskFactor(effect=effect, name=finding.check_id, severity=finding.severity,
                      detail=detail)


def score_factors(
    facts: MailboxFacts, failing: list[Finding], *, sprayable: bool | None = None
) -> tuple[int, tuple[RiskFactor, ...]]:
    """The exposure score and the factors it was made from (one per failing check, plus
    the sprayable floor when it lifted the score). `sprayable` overrides the facts' own."""
    sprayable = facts.sprayable if sprayable is None else sprayable
    factors = [_factor(finding, facts) for finding in failing]
    counted_ids = {f.name for f in factors if f.effect is not FactorEffect.NOT_COUNTED}
    counted = [finding for finding in failing if finding.check_id in counted_ids]
    score = risk_score(counted, sprayable)
    if sprayable and score == SPRAYABLE_FLOOR and risk_score(counted, False) < score:
        factors.insert(0, RiskFactor(
            effect=FactorEffect.FLOOR, name="sprayable", severity=Severity.CRITICAL,
            detail=f"at least {SPRAYABLE_FLOOR}: sign-in is enabled and "
                   f"{', '.join(facts.reachable_legacy())} takes a password"))
    return score, tuple(factors)


def blast_radius(facts: MailboxFacts, fails: Mapping[str, Finding]) -> BlastRadius:
    """Who and what a taker of the mailbox reaches: delegates (groups expanded by the access
    map), external forwarding targets and guest or external delegates, directory roles."""
    delegates = [p for p in facts.access.people if DELEGATE_RIGHTS & set(p.rights)]
    forwarding = fails.get("external-forwarding")
    targets = {
        str(t.get("address")).lower()
        for t in (forwarding.evidence.get("external", ()) if forwarding else ())
        if isinstance(t, Mapping)
    }
    outsiders = sum(1 for p in delegates if p.guest or p.external)
    roles = set(facts.roles)
    privileged = fails.get("privileged-account")
    if privileged is not None:
        roles |= {str(r) for r in privileged.evidence.get("eligible_roles", ())}
    return BlastRadius(delegates=len(delegates), external=len(targets) + outsiders,
                       roles=len(roles))


def risk_order(item: MailboxAssessment) -> tuple[object, ...]:
    """The sort key of the one risk order: tier, evidence, score, blast radius, address."""
    active = item.active_evidence
    by_severity = tuple(
        -sum(1 for e in active if e.severity is severity)
        for severity in (Severity.CRITICAL, Severity.HIGH)
    )
    return (-item.tier.rank, *by_severity, -item.risk_score,
            *(-n for n in item.blast.order()), item.upn)


def ranked(assessments: Iterable[MailboxAssessment]) -> list[MailboxAssessment]:
    """Mailboxes riskiest first, in the order the terminal, HTML and JSON all show."""
    return sorted(assessments, key=risk_order)


def evidence_factors(evidence: Iterable[ActiveEvidence]) -> tuple[RiskFactor, ...]:
    """One factor per piece of evidence; only open high or critical evidence ranks."""
    factors = []
    for e in evidence:
        if e.active:
            why = "open, ranks the mailbox as active"
        elif not e.open:
            why = "resolved, does not rank"
        else:
            why = f"open, {e.severity.value}: below high, does not rank"
        factors.append(RiskFactor(effect=FactorEffect.EVIDENCE, name=e.category,
                                  severity=e.severity, detail=f"{why}: {e.summary}"))
    return tuple(factors)


def with_evidence(
    result: ScanResult, evidence: Mapping[str, Iterable[ActiveEvidence]]
) -> ScanResult:
    """The result with each mailbox's evidence (by lower-case UPN) set, replacing any it
    had, and its mailboxes in risk order. Evidence for a mailbox not in the result is
    ignored: it is not an ownerless mailbox."""
    items = []
    for item in result.assessments:
        mine = tuple(sorted(evidence.get(item.upn.lower(), ()), key=_evidence_order))
        base = tuple(f for f in item.factors if f.effect is not FactorEffect.EVIDENCE)
        items.append(replace(item, evidence=mine, factors=evidence_factors(mine) + base))
    return replace(result, assessments=tuple(ranked(items)))


def _evidence_order(evidence: ActiveEvidence) -> tuple[object, ...]:
    return (not evidence.open, -evidence.severity.rank, evidence.category)


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
        stale = [p for p in facts.access.people if p.stale_reasons()]
        people = [p.upn for p in stale]
        orphans = len(facts.access.orphaned)
        # Guests and external people are not leavers: they may still work with the
        # organisation, so their path is named for where they are, not for having left.
        if orphans or any(p.enabled is False for p in stale):
            title = "Access kept after leaving"
        elif any(p.guest or p.external for p in stale):
            title = "Access held from outside the organisation"
        else:
            title = "Access held by unlicensed accounts"
        paths.append(
            _path(
                title,
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


#: The check whose failing findings, one per application, name the mailboxes it reaches.
APP_CHECK = "app-mail-access-unscoped"


def application_paths(findings: Iterable[Finding]) -> dict[str, tuple[AttackPath, ...]]:
    """Mailbox UPN -> one path per unscoped application that reaches it."""
    paths: dict[str, list[AttackPath]] = {}
    for finding in findings:
        if finding.check_id != APP_CHECK or not finding.failed:
            continue
        evidence = finding.evidence
        name = f"{finding.resource.display_name} ({evidence.get('app_id')})"
        entra = [str(p) for p in evidence.get("entra_permissions", ())]
        roles = [str(r) for r in evidence.get("rbac_unscoped_roles", ())]
        no_policy = not evidence.get("restrict_access_groups")
        path = _path(
            "Application reads every mailbox",
            finding.severity,
            f"application {name} can read or send as this mailbox",
            f"via {', '.join(entra)} in Entra ID"
            + (" (no application access policy)" if no_policy else "") if entra else None,
            f"via {', '.join(roles)} (RBAC for Applications, no scope)" if roles else None,
            "no signed-in user: no MFA, no conditional access, no person in the audit",
        )
        for upn in evidence.get("mailboxes", ()):
            paths.setdefault(str(upn), []).append(path)
    return {upn: tuple(found) for upn, found in paths.items()}


def assess_mailbox(
    facts: MailboxFacts,
    findings: list[Finding],
    tenant_findings: Mapping[str, Finding],
    context: Context,
    app_paths: tuple[AttackPath, ...] = (),
) -> MailboxAssessment:
    # An accepted finding (an exception covers it) adds nothing: not to the score, the
    # blast radius or the attack paths; a mailbox whose every failure is accepted scores 0,
    # the sprayable floor included. It stays listed under `accepted`.
    fails = {f.check_id: f for f in findings if f.status is Status.FAIL}
    failing = sorted(fails.values(), key=lambda f: (-f.severity.rank, f.check_id))
    known = {
        check_id: finding
        for check_id in TENANT_FACTS
        if (finding := tenant_findings.get(check_id)) is not None and finding.failed
    }
    score, factors = score_factors(facts, failing, sprayable=facts.sprayable and bool(failing))
    return MailboxAssessment(
        upn=facts.subject.upn,
        kind=facts.subject.kind,
        display_name=facts.subject.mailbox.display_name,
        risk_score=score,
        attack_paths=tuple(sorted(attack_paths(facts, {**known, **fails}, context) + app_paths,
                                  key=lambda p: -p.severity.rank)),
        failing=tuple(f.check_id for f in failing),
        errors=tuple(f.check_id for f in findings if f.status is Status.ERROR),
        accepted=tuple(sorted(f.check_id for f in findings if f.status is Status.ACCEPTED)),
        custodian=facts.custodian,
        factors=factors,
        blast=blast_radius(facts, fails),
    )
