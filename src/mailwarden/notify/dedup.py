"""De-duplication, escalation and posture drift: pure functions, no I/O.

An alert's notice key is its id, which detection derives from (rule, target, window): the
same alert seen on every cycle keeps its key. What was sent for a key is remembered as its
severity and escalation marks; a notice is sent again only when it is worse than that (a
higher severity, or a mark such as "password-proven" that was not there before).
Findings notify when they newly fail compared with the previous run, not on every run.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from mailwarden.model.findings import Finding, Severity, Status
from mailwarden.notify.notice import Notice


@dataclass(frozen=True, slots=True, kw_only=True)
class SentState:
    """What was last sent (or stored to be sent) for one notice key."""

    key: str
    severity: str
    marks: tuple[str, ...] = ()


class Decision(StrEnum):
    NEW = "new"
    SKIP = "skip"
    ESCALATION = "escalation"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    notice: Notice  # with `escalation` set when the decision is ESCALATION
    decision: Decision


def _worse(notice: Notice, sent: SentState) -> bool:
    if notice.rank > Severity.rank_of(sent.severity):
        return True
    return bool(set(notice.marks) - set(sent.marks))


def decide(previous: Mapping[str, SentState], notices: Iterable[Notice]) -> tuple[Verdict, ...]:
    """New keys are sent, unchanged ones skipped, worse ones sent as escalations.

    A key repeated within `notices` is judged against the first of them, so one batch
    never sends the same notice twice."""
    seen = dict(previous)
    verdicts = []
    for notice in notices:
        sent = seen.get(notice.key)
        if sent is None:
            verdict = Verdict(notice=notice, decision=Decision.NEW)
        elif _worse(notice, sent):
            verdict = Verdict(notice=replace(notice, escalation=True),
                              decision=Decision.ESCALATION)
        else:
            verdict = Verdict(notice=notice, decision=Decision.SKIP)
        if verdict.decision is not Decision.SKIP:
            seen[notice.key] = remembered(sent, notice)
        verdicts.append(verdict)
    return tuple(verdicts)


def remembered(sent: SentState | None, notice: Notice) -> SentState:
    """The state to keep after sending: the worst severity and every mark seen, so an alert
    that drops back and rises again to an already-sent level does not escalate twice."""
    if sent is None:
        return SentState(key=notice.key, severity=notice.severity, marks=notice.marks)
    worst = max(sent.severity, notice.severity, key=Severity.rank_of)
    marks = tuple(sorted({*sent.marks, *notice.marks}))
    return SentState(key=notice.key, severity=worst, marks=marks)


def finding_key(finding: Finding) -> str:
    """A finding's identity across runs: the check and the resource it is about."""
    return f"{finding.check_id}:{finding.resource.key or 'tenant'}"


def failing_keys(findings: Iterable[Finding]) -> frozenset[str]:
    return frozenset(finding_key(f) for f in findings if f.status is Status.FAIL)


def newly_failing(previous_failing: Collection[str] | None,
                  current: Iterable[Finding]) -> tuple[Finding, ...]:
    """Findings that fail now and did not fail in the previous run.

    With no previous run (`None`), every failing finding is new. A finding that was
    `error` before and fails now is new: nobody was told it failed."""
    before = frozenset(previous_failing or ())
    return tuple(f for f in current
                 if f.status is Status.FAIL and finding_key(f) not in before)


def drift(previous: Iterable[Finding], current: Iterable[Finding]) -> tuple[Finding, ...]:
    """`newly_failing` for two findings sets."""
    return newly_failing(failing_keys(previous), current)
