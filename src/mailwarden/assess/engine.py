"""`assess(snapshot) -> ScanResult`: inventory, access map, every check, risk and paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from mailwarden.assess.accept import Acceptor
from mailwarden.assess.access import MAILBOXES, PERMISSIONS, AccessMapper, access_path
from mailwarden.assess.checks import CATALOGUE, Check
from mailwarden.assess.checks.base import Verdict, errored, listing
from mailwarden.assess.custodians import CustodianMap, infer_custodian
from mailwarden.assess.effective import basic_auth, legacy_coverage, smtp_auth
from mailwarden.assess.facts import Context, MailboxFacts, build_context
from mailwarden.assess.fallback import inventory_note, with_fallback_mailboxes
from mailwarden.assess.index import TenantIndex
from mailwarden.assess.inventory import Subject, ownerless_subjects
from mailwarden.assess.options import AssessOptions
from mailwarden.assess.records import inventory_entry, snapshot_problems, trustee_problems
from mailwarden.assess.risk import application_paths, assess_mailbox
from mailwarden.assess.usage import grant_uses
from mailwarden.gcpause import cyclic_gc_paused
from mailwarden.model.controls import applicable
from mailwarden.model.exceptions import FindingException
from mailwarden.model.findings import (
    TENANT_RESOURCE,
    Custodian,
    CustodianSource,
    Finding,
    MailboxAccess,
    PriorInventory,
    Problem,
    ProblemKind,
    Resource,
    Right,
    ScanResult,
    Status,
)
from mailwarden.model.inventory import Snapshot
from mailwarden.model.usage import DelegateUsage


def assess(
    snapshot: Snapshot,
    *,
    custodians: CustodianMap | None = None,
    options: AssessOptions | None = None,
    prior: PriorInventory | None = None,
    exceptions: Sequence[FindingException] | None = None,
    at: datetime | None = None,
    usage: DelegateUsage | None = None,
) -> ScanResult:
    """Assess every ownerless mailbox of a snapshot. Pure: no network, no clock.

    `usage`, delegates' last use of the mailboxes from the Unified Audit Log
    (`detect.usage`), dates the access map's grants and decides `dormant-delegate`;
    without it that check is `error` wherever a grant was not seen used.

    `prior`, the ownerless mailboxes of the tenant's last stored run, is read only when
    Get-Mailbox or graph/users failed: it adds the mailboxes (and the unlicensed user
    mailboxes) the remaining sources cannot name (`assess.fallback`).

    `exceptions` turn the failing findings they cover into `accepted` before risk is
    scored (`assess.accept`); their expiry is judged at `at`, the run's time (required
    with exceptions). None: the run has no exceptions (no Exceptions section)."""
    acceptor = None
    if exceptions is not None:
        if at is None:
            raise ValueError("exceptions are judged at the run's time: pass `at`")
        acceptor = Acceptor(exceptions, at=at)
    with cyclic_gc_paused():
        return _assess(snapshot, custodians, options or AssessOptions(), prior, acceptor,
                       usage)


def _assess(
    snapshot: Snapshot,
    custodians: CustodianMap | None,
    options: AssessOptions,
    prior: PriorInventory | None,
    acceptor: Acceptor | None = None,
    usage: DelegateUsage | None = None,
) -> ScanResult:
    accept = acceptor.apply if acceptor is not None else list
    snapshot, found = with_fallback_mailboxes(snapshot, prior)
    index = TenantIndex(snapshot)
    context = build_context(index, options, custodians, usage)
    subjects, counts, subject_problems = ownerless_subjects(index, prior)
    mapper = AccessMapper(index, options)
    problems: list[Problem] = snapshot_problems(snapshot) + index.problems + subject_problems
    if found is not None:
        erroring = [c.info.id for c in CATALOGUE
                    if c.mailbox is not None and MAILBOXES in _missing(c, snapshot, listed=True)]
        problems.insert(0, inventory_note(snapshot, found, (s.position for s in subjects), prior,
                                          erroring))
    all_facts = [_facts(subject, mapper, context, problems) for subject in subjects]
    problems += _custodian_problems(custodians, index, {s.upn for s in subjects})
    problems += trustee_problems(f.access for f in all_facts)

    listed = found is not None  # the mailboxes come from other sources than Get-Mailbox
    unavailable = {c.info.id for c in CATALOGUE if _missing(c, snapshot, listed=listed)}
    tenant_findings = accept(
        _tenant_finding(check, context) for check in CATALOGUE if check.tenant is not None
    )
    app_findings = accept(finding for check in CATALOGUE if check.applications is not None
                          for finding in _application_findings(check, context, subjects, listed))
    tenant_by_id = {f.check_id: f for f in tenant_findings}
    reached = application_paths(app_findings)
    findings: list[Finding] = list(tenant_findings) + app_findings
    assessments = []
    for facts in all_facts:
        mine = accept(
            _mailbox_finding(check, facts, context, check.info.id in unavailable, listed)
            for check in CATALOGUE
            if check.mailbox is not None
        )
        findings += mine
        assessments.append(assess_mailbox(facts, mine, tenant_by_id, context,
                                          reached.get(facts.subject.upn, ())))
    return ScanResult(
        tenant=snapshot.tenant,
        inventory=tuple(inventory_entry(f) for f in all_facts),
        access=tuple(f.access for f in all_facts),
        findings=tuple(findings),
        assessments=tuple(assessments),
        problems=tuple(problems),
        checks=tuple(check.info for check in CATALOGUE),
        mailbox_counts=dict(sorted(counts.items())),
        exceptions=acceptor.report() if acceptor is not None else None,
    )


def _facts(
    subject: Subject, mapper: AccessMapper, context: Context, problems: list[Problem]
) -> MailboxFacts:
    snapshot = context.snapshot
    access = mapper.map(subject.position, subject.mailbox, subject.upn, subject.account)
    access = replace(access, usage=grant_uses(
        access, subject.mailbox, (context.uses or {}).get(subject.position, {}),
        snapshot=snapshot, usage=context.usage, bypass=context.bypass,
        days=context.options.dormant_days))
    empty = mapper.no_permission_rows(subject.position, subject.mailbox)
    if empty is not None:
        problems.append(
            Problem(kind=ProblemKind.MISSING_SOURCE, source=PERMISSIONS, subject=subject.upn,
                    detail=empty)
        )
    legacy = None
    if subject.account is not None and snapshot.available("graph/conditionalAccessPolicies"):
        legacy = legacy_coverage(context.index, subject.account)
    custodian, note = _custodian(subject, access, context)
    if note:
        problems.append(
            Problem(
                kind=ProblemKind.CUSTODIAN, source="custodians", subject=subject.upn, detail=note
            )
        )
    return MailboxFacts(
        subject=subject,
        access=access,
        smtp=smtp_auth(snapshot, subject.cas),
        basic=basic_auth(snapshot, subject.exo_user),
        legacy=legacy,
        custodian=custodian,
        custodian_note=note,
        roles=tuple(sorted({name for _, _, name in context.index.roles_of(subject.account.id)}))
        if subject.account is not None
        else (),
    )


def _custodian(
    subject: Subject, access: MailboxAccess, context: Context
) -> tuple[Custodian | None, str | None]:
    note = None
    entry = context.custodians.get(subject.upn) if context.custodians else None
    if entry is not None:
        person = context.index.account(entry.person)
        users_known = context.snapshot.available("graph/users")
        if users_known and person is None:
            note = f"custodian {entry.person} ({entry.origin}) is not an account in the tenant"
        elif person is not None and person.account_enabled is False:
            note = f"custodian {entry.person} ({entry.origin}) is disabled"
        else:
            return Custodian(
                mailbox=subject.upn,
                person=entry.person,
                team=entry.team,
                source=CustodianSource.FILE,
                reason=f"mapped at {entry.origin}",
            ), None
    inferred = infer_custodian(
        subject.upn,
        access,
        context.index.account_by_id,
        from_groups=context.options.infer_custodian_from_groups,
        path=lambda person: access_path(context.index, access, person, Right.FULL_ACCESS),
    )
    return inferred, note


def _missing(check: Check, snapshot: Snapshot, *, listed: bool = False) -> dict[str, str]:
    """The sources `check` needs that are not there. With `listed` (Get-Mailbox failed and
    the mailboxes come from other sources), a check that reads no Get-Mailbox property
    does not need it."""
    needs = check.info.needs
    if listed and not check.info.reads_mailbox:
        needs = tuple(s for s in needs if s != MAILBOXES)
    return {s: snapshot.problem(s) or "" for s in needs if not snapshot.available(s)}


def _guard(
    check: Check, context: Context, subject: str, *, listed: bool = False
) -> Verdict | None:
    snapshot = context.snapshot
    missing = _missing(check, snapshot, listed=listed)
    if not missing:
        return None
    # A licence the tenant lacks is said as such ("needs Entra ID P1 (signInActivity)").
    limited = {s: reason for s in missing if (reason := snapshot.limitation(s)) is not None}
    failed = [s for s in missing if s not in limited]
    why = []
    if failed:
        why.append(f"{listing(failed)} {'was' if len(failed) == 1 else 'were'} not collected")
    why += list(dict.fromkeys(limited.values()))
    evidence: dict[str, object] = {"missing_sources": missing}
    if limited:
        evidence["licence_limitations"] = limited
    return errored(f"{check.info.id} cannot be judged for {subject}: {'; '.join(why)}.", evidence)


def _finding(check: Check, verdict: Verdict, resource: Resource, context: Context) -> Finding:
    info = check.info
    remediation = None
    if verdict.status is Status.FAIL:
        tenant = context.snapshot.tenant
        remediation = info.remediation.bind(
            upn=resource.upn,
            account_id=resource.account_id,
            tenant=tenant.default_domain or tenant.tenant_id,
        ).extended(verdict.commands)
    return Finding(
        check_id=info.id,
        status=verdict.status,
        severity=verdict.severity or info.severity,
        resource=resource,
        message=verdict.message,
        evidence=verdict.evidence,
        # CIS 1.2.2 speaks of shared mailboxes: a room account does not fail it.
        controls=applicable(
            info.controls if verdict.controls is None else verdict.controls, resource.kind
        ),
        remediation=remediation,
    )


def _mailbox_guard(check: Check, context: Context, facts: MailboxFacts) -> Verdict | None:
    """An error when a source the check needs was collected, but not for this mailbox."""
    snapshot = context.snapshot
    failed = {
        source: problem
        for source in check.info.needs
        if (problem := snapshot.mailbox_problem(source, facts.subject.mailbox)) is not None
    }
    if not failed:
        return None
    were = "was" if len(failed) == 1 else "were"
    return errored(
        f"{check.info.id} cannot be judged for {facts.subject.upn}: {listing(list(failed))} "
        f"{were} not read for this mailbox.",
        missing_sources=failed,
    )


def _mailbox_finding(
    check: Check, facts: MailboxFacts, context: Context, unavailable: bool, listed: bool
) -> Finding:
    assert check.mailbox is not None
    guarded = _guard(check, context, facts.subject.upn, listed=listed) if unavailable else None
    verdict = guarded or _mailbox_guard(check, context, facts) or check.mailbox(facts, context)
    return _finding(check, verdict, facts.subject.resource, context)


def _tenant_finding(check: Check, context: Context) -> Finding:
    assert check.tenant is not None
    verdict = _guard(check, context, "the tenant") or check.tenant(context)
    return _finding(check, verdict, TENANT_RESOURCE, context)


def _application_findings(
    check: Check, context: Context, subjects: Sequence[Subject], listed: bool
) -> list[Finding]:
    assert check.applications is not None
    guarded = _guard(check, context, "the tenant", listed=listed)
    if guarded is not None:
        return [_finding(check, guarded, TENANT_RESOURCE, context)]
    return [_finding(check, verdict, resource, context)
            for resource, verdict in check.applications(context, subjects)]


def _custodian_problems(
    custodians: CustodianMap | None, index: TenantIndex, ownerless: set[str]
) -> list[Problem]:
    if custodians is None:
        return []
    problems = []
    for entry in custodians.entries:
        if entry.mailbox in ownerless:
            continue
        mailbox = index.mailbox(entry.mailbox)
        detail = (
            "names a mailbox that is not ownerless"
            if mailbox is not None
            else "names a mailbox the tenant does not have"
        )
        problems.append(
            Problem(
                kind=ProblemKind.CUSTODIAN,
                source=custodians.path,
                subject=entry.mailbox,
                detail=f"{entry.origin} {detail}",
            )
        )
    return problems
