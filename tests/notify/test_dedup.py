"""De-duplication, escalation and posture drift (pure functions)."""

from __future__ import annotations

from mailwarden.model.findings import Finding, MailboxKind, Resource, Scope, Severity, Status
from mailwarden.notify import Decision, SentState, alert_notice, decide, drift, newly_failing
from mailwarden.notify.dedup import failing_keys, remembered
from tests.notify.notify_peers import alert


def _decisions(previous: dict[str, SentState], *alerts: dict[str, object]) -> list[str]:
    return [v.decision.value for v in decide(previous, [alert_notice(a) for a in alerts])]


def test_new_then_same_then_worse() -> None:
    spray = alert("s1", category="password-spray", rule_id="spray-ip", severity="high",
                  target=None, targets=("a@x.example", "b@x.example"))
    assert _decisions({}, spray) == ["new"]
    sent = {"alert:s1": remembered(None, alert_notice(spray))}
    assert _decisions(sent, spray) == ["skip"]
    proven = {**spray, "severity": "critical", "facts": {"proven": ["a@x.example"]}}
    (verdict,) = decide(sent, [alert_notice(proven)])
    assert verdict.decision is Decision.ESCALATION and verdict.notice.escalation
    assert verdict.notice.subject.startswith("[mailwarden] ESCALATED CRITICAL")


def test_a_new_mark_escalates_even_at_the_same_severity() -> None:
    brute = alert("b1", category="brute-force", rule_id="brute-force-account",
                  severity="medium")
    sent = {"alert:b1": remembered(None, alert_notice(brute))}
    worse = {**brute, "facts": {"succeeded": True}}
    assert _decisions(sent, worse) == ["escalation"]
    after = {"alert:b1": remembered(sent["alert:b1"], alert_notice(worse))}
    assert _decisions(after, worse) == ["skip"]


def test_lower_severity_later_is_not_news_and_rising_back_does_not_re_escalate() -> None:
    high = alert("h1", severity="high")
    state = remembered(None, alert_notice(high))
    low = alert_notice({**high, "severity": "low"})
    state = remembered(state, low)
    assert state.severity == "high"
    assert _decisions({"alert:h1": state}, {**high, "severity": "low"}, high) == ["skip", "skip"]


def test_the_same_key_twice_in_one_batch_is_sent_once() -> None:
    assert _decisions({}, alert("d1"), alert("d1")) == ["new", "skip"]


def _finding(check: str, upn: str | None, status: Status) -> Finding:
    resource = (Resource(type=Scope.MAILBOX, upn=upn, kind=MailboxKind.SHARED) if upn
                else Resource(type=Scope.TENANT))
    return Finding(check_id=check, status=status, severity=Severity.HIGH, resource=resource,
                   message=f"{check} on {upn}")


def test_findings_notify_only_when_newly_failing() -> None:
    before = [_finding("imap-enabled", "hr@x.example", Status.FAIL),
              _finding("sign-in-enabled", "hr@x.example", Status.PASS),
              _finding("audit-disabled-org", None, Status.ERROR)]
    now = [_finding("imap-enabled", "hr@x.example", Status.FAIL),
           _finding("sign-in-enabled", "hr@x.example", Status.FAIL),
           _finding("audit-disabled-org", None, Status.FAIL),
           _finding("pop-enabled", "hr@x.example", Status.PASS)]
    assert [(f.check_id, f.resource.upn) for f in drift(before, now)] == [
        ("sign-in-enabled", "hr@x.example"), ("audit-disabled-org", None)]
    assert newly_failing(failing_keys(now), now) == ()
    assert len(newly_failing(None, now)) == 3
