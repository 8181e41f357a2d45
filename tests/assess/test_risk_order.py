"""The risk order on a small tenant: what the logs show ranks first, a fixed precondition
lowers the score, and ties go to the wider blast radius."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mailwarden.assess.evidence import evidence_from_alerts
from mailwarden.assess.risk import ranked, with_evidence
from mailwarden.model.findings import (
    FactorEffect,
    MailboxAssessment,
    RiskTier,
    ScanResult,
)
from mailwarden.model.inventory import Account, AuditBypass, Snapshot
from tests.assess.assess_factory import (
    account_of,
    adding,
    block_legacy,
    cas,
    exo_user,
    full_access,
    hardened,
    mailbox,
    person,
    registration,
    run,
    send_as,
    service_account,
)

DOMAIN = "contoso.com"


def _shared(snapshot: Snapshot, name: str, *, enabled: bool = False, imap: bool = False,
            delegates: tuple[Account, ...] = (), forward_to: str | None = None,
            audit: bool = True) -> Snapshot:
    """Add a shared mailbox `name`, its account and CAS row; FullAccess for `delegates` and
    alice (so every mailbox has the same custodian)."""
    alice = account_of(snapshot, "alice")
    account = service_account(name, account_enabled=enabled)
    box = mailbox(account, audit_enabled=audit,
                  forwarding_smtp_address=f"smtp:{forward_to}" if forward_to else None)
    return adding(
        snapshot,
        accounts=(account,),
        mailboxes=(box,),
        cas_mailboxes=(cas(box, imap_enabled=imap),),
        exo_users=(exo_user(account),),
        registrations=(registration(account),),
        mailbox_permissions=(
            full_access(box, "NT AUTHORITY\\SELF"),
            full_access(box, alice.user_principal_name),
            *(full_access(box, d.user_principal_name) for d in delegates),
        ),
        recipient_permissions=(send_as(box, "NT AUTHORITY\\SELF"),),
        audit_bypass=(AuditBypass(identity=name, audit_bypass_enabled=False),),
    )


def scenario() -> ScanResult:
    """hr (hardened) plus:

    - builds: forwards mail outside; the logs show a leaver's sign-in, 120 messages sent and
      the forwarding being set (active evidence), and nothing else is wrong with it;
    - noreply: sign-in enabled, IMAP on, excluded from the legacy block: sprayable (99 in
      the issue's tenant), and a leaver keeps FullAccess;
    - payroll: noreply's twin, but its sign-in is blocked;
    - sales and support: mailbox auditing off, nothing else; support has two more delegates;
    - sales also has a medium alert, which does not make it active.
    """
    base = hardened()
    leaver = person("left", enabled=False)
    carol, dave = person("carol"), person("dave")
    snapshot = adding(base, accounts=(leaver, carol, dave))
    snapshot = _shared(snapshot, "builds", forward_to="drop@evil.example")
    snapshot = _shared(snapshot, "noreply", enabled=True, imap=True, delegates=(leaver,))
    snapshot = _shared(snapshot, "payroll", enabled=False, imap=True, delegates=(leaver,))
    snapshot = _shared(snapshot, "sales", audit=False)
    snapshot = _shared(snapshot, "support", audit=False, delegates=(carol, dave))
    excluded = tuple(account_of(snapshot, n).id for n in ("noreply", "payroll"))
    snapshot = replace(snapshot, ca_policies=(block_legacy(exclude_users=excluded),))
    return run(snapshot)


def alert(rule: str, category: str, severity: str, target: str, summary: str) -> dict[str, Any]:
    """An alert as alerts.json holds it (SPEC section 8)."""
    return {
        "id": f"{rule}-{target}", "category": category, "rule_id": rule, "severity": severity,
        "target": target, "targets": [target], "source_ips": ["203.0.113.9"],
        "first_seen": "2026-10-13T08:00:00Z", "last_seen": "2026-10-13T09:00:00Z",
        "event_count": 1, "summary": summary, "evidence": [], "facts": {}, "mitre": [],
    }


ALERTS = (
    alert("leaver-address-on-ownerless", "leaver-access", "critical", f"builds@{DOMAIN}",
          "Ownerless account builds@contoso.com signed in from the IP address of a leaver"),
    alert("mass-send", "mass-send", "high", f"builds@{DOMAIN}",
          "Ownerless mailbox builds@contoso.com sent 120 messages on 2026-10-13"),
    alert("external-forwarding-set", "external-forwarding-set", "critical", f"builds@{DOMAIN}",
          "Set-Mailbox forwards mail of builds@contoso.com outside to drop@evil.example"),
    alert("legacy-protocol-auth", "legacy-protocol-auth", "medium", f"sales@{DOMAIN}",
          "2 legacy-protocol sign-in attempts against sales@contoso.com"),
)


def item(result: ScanResult, name: str) -> MailboxAssessment:
    return next(a for a in result.assessments if a.upn == f"{name}@{DOMAIN}")


def test_the_scenario_ranks_evidence_first_then_score_then_blast_radius() -> None:
    result = with_evidence(scenario(), evidence_from_alerts(ALERTS))
    order = [a.upn.split("@")[0] for a in ranked(result.assessments)]
    assert order == ["builds", "noreply", "payroll", "support", "sales", "hr"]
    assert [a.upn for a in result.assessments] == [a.upn for a in ranked(result.assessments)]
    builds = item(result, "builds")
    assert builds.tier is RiskTier.ACTIVE
    assert builds.risk_score < item(result, "noreply").risk_score  # evidence, not points
    assert [e.category for e in builds.evidence] == [
        "external-forwarding-set", "leaver-access", "mass-send"]
    assert item(result, "sales").tier is RiskTier.EXPOSED  # a medium alert does not rank
    assert item(result, "hr").tier is RiskTier.NONE


def test_a_blocked_sign_in_scores_lower_than_its_unblocked_twin() -> None:
    result = scenario()
    noreply, payroll = item(result, "noreply"), item(result, "payroll")
    assert noreply.risk_score >= 90 > payroll.risk_score > 0  # the stale delegate remains
    dropped = {f.name for f in payroll.factors if f.effect is FactorEffect.NOT_COUNTED}
    assert dropped == {"imap-enabled", "legacy-auth-not-blocked"}
    assert all("sign-in is blocked" in f.detail for f in payroll.factors
               if f.effect is FactorEffect.NOT_COUNTED)
    assert not any(p.title == "Password spray without MFA" for p in payroll.attack_paths)
    counted = {f.name for f in noreply.factors if f.effect is FactorEffect.COUNTED}
    assert {"imap-enabled", "legacy-auth-not-blocked", "sign-in-enabled"} <= counted


def test_ties_are_broken_by_delegates_not_by_name() -> None:
    result = scenario()
    sales, support = item(result, "sales"), item(result, "support")
    assert sales.risk_score == support.risk_score > 0
    assert (support.blast.delegates, sales.blast.delegates) == (3, 1)
    assert [a.upn for a in ranked([sales, support])] == [support.upn, sales.upn]


def test_evidence_is_replaced_not_added_and_resolved_evidence_does_not_rank() -> None:
    once = with_evidence(scenario(), evidence_from_alerts(ALERTS))
    twice = with_evidence(once, evidence_from_alerts(ALERTS))
    assert item(twice, "builds").evidence == item(once, "builds").evidence
    assert item(twice, "builds").factors == item(once, "builds").factors
    resolved = {upn: tuple(replace(e, open=False) for e in items)
                for upn, items in evidence_from_alerts(ALERTS).items()}
    after = with_evidence(once, resolved)
    assert item(after, "builds").tier is RiskTier.EXPOSED
    assert after.assessments[0].upn == f"noreply@{DOMAIN}"


def test_an_unknown_sign_in_state_counts_and_says_so() -> None:
    blocked = item(scenario(), "payroll")
    # noreply with accountEnabled unread: unknown is not safe, nothing is taken as fixed.
    base = hardened()
    leaver = person("left", enabled=False)
    snapshot = adding(base, accounts=(leaver,))
    snapshot = _shared(snapshot, "noreply", enabled=True, imap=True, delegates=(leaver,))
    unknown = account_of(snapshot, "noreply")
    snapshot = replace(
        snapshot,
        accounts=tuple(replace(a, account_enabled=None) if a.id == unknown.id else a
                       for a in snapshot.accounts),
        mailboxes=tuple(replace(m, account_disabled=None) if m.name == "noreply" else m
                        for m in snapshot.mailboxes),
        ca_policies=(block_legacy(exclude_users=(unknown.id,)),),
    )
    unread = item(run(snapshot), "noreply")
    assert unread.risk_score > 0
    factor = next(f for f in unread.factors if f.name == "imap-enabled")
    assert factor.effect is FactorEffect.UNKNOWN
    assert "whether the account can sign in is unknown" in factor.detail
    assert unread.risk_score > blocked.risk_score
