"""Apply accepted exceptions to a run's findings: a pure step after the checks.

    acceptor = Acceptor(exceptions, at=run_time)
    findings = acceptor.apply(findings)      # as often as there are batches of findings
    report = acceptor.report()               # what each exception did

Only a `fail` finding is ever changed: an unexpired exception that covers it makes it
`accepted`, carrying the exception. `pass`, `error` and `not_applicable` findings stay as
they are: an exception never turns an unjudgeable finding into anything but `error`. An
expired exception no longer accepts: the finding stays `fail`, carrying the expired
exception so the reports can say so.

When several exceptions cover one finding, the most specific wins (an exact check on an
exact mailbox, then a check on a pattern, then every check of a mailbox), then the one
listed first (the file's before the store's). Every exception that covers a failing
finding counts as matched, so none of them is reported as matching nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from mailwarden.model.exceptions import (
    EXPIRING_DAYS,
    ExceptionsReport,
    ExceptionState,
    ExceptionUse,
    FindingException,
)
from mailwarden.model.findings import Finding, Status


def finding_key(finding: Finding) -> str:
    """"check_id mailbox" (or "check_id tenant"): how a report names a matched finding."""
    return f"{finding.check_id} {finding.resource.upn or 'tenant'}"


def state_of(exception: FindingException, at: datetime,
             warn_days: int = EXPIRING_DAYS) -> ExceptionState:
    days = exception.days_left(at)
    if days < 0:
        return ExceptionState.EXPIRED
    return ExceptionState.EXPIRING if days <= warn_days else ExceptionState.ACTIVE


class Acceptor:
    """Applies a fixed list of exceptions at one moment, remembering what each matched."""

    def __init__(self, exceptions: Sequence[FindingException], *, at: datetime,
                 warn_days: int = EXPIRING_DAYS) -> None:
        if at.tzinfo is None:
            raise ValueError("the moment exceptions are judged at must be timezone-aware")
        self.at = at
        self.warn_days = warn_days
        self.exceptions = tuple(exceptions)
        self._matched: list[list[str]] = [[] for _ in self.exceptions]

    def apply(self, findings: Iterable[Finding]) -> list[Finding]:
        return [self._one(finding) for finding in findings]

    def _one(self, finding: Finding) -> Finding:
        if finding.status is not Status.FAIL or not self.exceptions:
            return finding
        covering = [n for n, e in enumerate(self.exceptions)
                    if e.covers(finding.check_id, finding.resource.upn)]
        if not covering:
            return finding
        key = finding_key(finding)
        for n in covering:
            self._matched[n].append(key)
        live = [n for n in covering if not self.exceptions[n].expired(self.at)]
        chosen = min(live or covering, key=lambda n: (-self.exceptions[n].specificity, n))
        exception = self.exceptions[chosen]
        if live:
            return replace(finding, status=Status.ACCEPTED, exception=exception)
        return replace(finding, exception=exception)

    def report(self) -> ExceptionsReport:
        uses = tuple(
            ExceptionUse(exception=e, state=state_of(e, self.at, self.warn_days),
                         days_left=e.days_left(self.at), matched=tuple(self._matched[n]))
            for n, e in enumerate(self.exceptions)
        )
        return ExceptionsReport(at=self.at, uses=uses, warn_days=self.warn_days)


def apply_exceptions(findings: Sequence[Finding], exceptions: Sequence[FindingException], *,
                     at: datetime) -> tuple[list[Finding], ExceptionsReport]:
    """The findings with the exceptions applied, and what each exception did."""
    acceptor = Acceptor(exceptions, at=at)
    return acceptor.apply(findings), acceptor.report()
