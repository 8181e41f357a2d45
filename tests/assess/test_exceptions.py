"""Accepted exceptions: the file's validation (every bad entry at once, by line) and their
application after the checks (only `fail` changes; expired ones fail again; risk)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from mailwarden.assess import assess
from mailwarden.assess.accept import apply_exceptions
from mailwarden.assess.checks import CATALOGUE
from mailwarden.assess.exceptions_file import (
    exception_from_values,
    load_exceptions,
    parse_exceptions,
)
from mailwarden.errors import InputError
from mailwarden.model.exceptions import ExceptionState, FindingException
from mailwarden.model.findings import Finding, Status
from tests.report.report_factory import snapshot

CHECKS = [check.info for check in CATALOGUE]
AT = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)


def _exception(check: str, mailbox: str | None, expires: date = date(2027, 1, 31),
               **extra: str) -> FindingException:
    return FindingException(check=check, mailbox=mailbox, reason="agreed with the CISO",
                            owner="it-ops@contoso.com", expires=expires, **extra)


def test_a_valid_file_reads_in_file_order_with_its_lines(tmp_path: Path) -> None:
    path = tmp_path / "exceptions.yaml"
    path.write_text(
        "# accepted risks\n"
        "exceptions:\n"
        "  - check: resource-account-enabled\n"
        "    mailbox: Room-*@Contoso.com\n"
        "    reason: Partner agencies book these rooms.\n"
        "    owner: facilities@contoso.com\n"
        "    expires: 2027-03-31\n"
        "    ticket: CHG-1234\n"
        "  - check: weak-smart-lockout\n"
        "    reason: Kiosk fleet.\n"
        "    owner: idm@contoso.com\n"
        "    expires: '2026-12-01'\n"
        "  - check: '*'\n"
        "    mailbox: breakglass@contoso.com\n"
        "    reason: Break-glass account, monitored.\n"
        "    owner: secops@contoso.com\n"
        "    expires: 2027-06-30\n", encoding="utf-8")
    room, lockout, glass = load_exceptions(path)
    assert (room.check, room.mailbox, room.ticket) == (
        "resource-account-enabled", "room-*@contoso.com", "CHG-1234")
    assert room.pattern and room.expires == date(2027, 3, 31)
    assert room.origin == f"{path}:3"
    assert (lockout.mailbox, lockout.expires, lockout.ticket) == (None, date(2026, 12, 1), None)
    assert glass.check == "*" and not glass.pattern


def test_every_bad_entry_is_named_at_once_with_its_line() -> None:
    text = (
        "exceptions:\n"
        "  - check: imap-enabeld\n"              # 2: unknown check
        "    mailbox: a@contoso.com\n"
        "    reason: r\n"
        "    owner: o\n"
        "    expires: 2027-01-01\n"
        "  - check: imap-enabled\n"              # 7: no reason, no owner, no expiry
        "    mailbox: b@contoso.com\n"
        "  - check: imap-enabled\n"
        "    mailbox: c@contoso.com\n"
        "    reason: r\n"
        "    owner: o\n"
        "    expires: 31/12/2027\n"              # 13: not ISO
        "  - check: '*'\n"
        "    mailbox: room-*@contoso.com\n"      # 15: "*" with a pattern
        "    reason: r\n"
        "    owner: o\n"
        "    expires: 2027-01-01\n"
        "  - check: weak-smart-lockout\n"
        "    mailbox: d@contoso.com\n"           # 20: mailbox on a tenant-wide check
        "    reason: r\n"
        "    owner: o\n"
        "    expires: 2027-01-01\n"
        "  - check: imap-enabled\n"              # 24: no mailbox on a mailbox check
        "    reason: r\n"
        "    owner: o\n"
        "    expires: 2027-01-01\n"
        "    expiry: 2027-01-01\n"               # 28: unknown key
    )
    with pytest.raises(InputError) as caught:
        parse_exceptions(text, "exc.yaml", CHECKS)
    lines = str(caught.value).splitlines()
    assert lines[0] == ("exc.yaml: 9 problems, no exception was applied (fix each line "
                        "named):")
    assert lines[1].startswith("exc.yaml:2: unknown check 'imap-enabeld'; valid checks: ")
    assert "imap-enabled" in lines[1] and "weak-smart-lockout" in lines[1]
    assert [line.split(": ", 1)[0] for line in lines[1:]] == [
        "exc.yaml:2", "exc.yaml:7", "exc.yaml:7", "exc.yaml:7", "exc.yaml:13", "exc.yaml:15",
        "exc.yaml:20", "exc.yaml:28", "exc.yaml:24"]
    assert "missing reason" in lines[2] and "missing owner" in lines[3]
    assert "missing expires" in lines[4]
    assert "not an ISO date: write it as YYYY-MM-DD" in lines[5]
    assert "not a pattern" in lines[6]
    assert "tenant-wide: leave mailbox out" in lines[7]
    assert "unknown key 'expiry'" in lines[8]
    assert "name the mailbox" in lines[9]


def test_the_same_check_and_mailbox_twice_is_refused() -> None:
    entry = ("  - check: imap-enabled\n    mailbox: a@contoso.com\n    reason: r\n"
             "    owner: o\n    expires: 2027-01-01\n")
    with pytest.raises(InputError, match=r"x.yaml:7: imap-enabled on a@contoso.com is already "
                       r"accepted on line 2"):
        parse_exceptions("exceptions:\n" + entry + entry, "x.yaml", CHECKS)


@pytest.mark.parametrize(("text", "message"), [
    ("- check: imap-enabled\n", "x.yaml:1: expected a mapping with an `exceptions:` list"),
    ("exceptions: {}\n", "x.yaml:1: exceptions must be a list"),
    ("exceptions: [\n", "x.yaml:2: not valid YAML"),
    ("rules: []\n", "x.yaml:1: unknown key 'rules'"),
])
def test_a_file_of_another_shape_says_what_it_expects(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_exceptions(text, "x.yaml", CHECKS)


def test_an_empty_file_accepts_nothing() -> None:
    assert parse_exceptions("", "x.yaml", CHECKS) == ()
    assert parse_exceptions("exceptions:\n", "x.yaml", CHECKS) == ()


def test_options_are_checked_like_a_file_entry() -> None:
    with pytest.raises(InputError, match=r"^the exception given: unknown check 'nope'"):
        exception_from_values({"check": "nope", "mailbox": "a@contoso.com", "reason": "r",
                               "owner": "o", "expires": "2027-01-01"}, "the exception given",
                              CHECKS)


def _finding(status: Status, upn: str | None = "hr@contoso.com",
             check: str = "imap-enabled") -> Finding:
    result = assess(snapshot())
    template = next(f for f in result.findings if f.check_id == "imap-enabled")
    resource = replace(template.resource, upn=upn)
    return replace(template, status=status, resource=resource, check_id=check)


def test_only_a_failing_finding_is_accepted_and_expiry_makes_it_fail_again() -> None:
    findings = [_finding(Status.FAIL), _finding(Status.PASS), _finding(Status.ERROR),
                _finding(Status.NOT_APPLICABLE)]
    live = _exception("imap-enabled", "hr@contoso.com", ticket="CHG-1")
    applied, report = apply_exceptions(findings, [live], at=AT)
    assert [f.status for f in applied] == [Status.ACCEPTED, Status.PASS, Status.ERROR,
                                           Status.NOT_APPLICABLE]
    assert applied[0].exception == live and applied[1].exception is None
    assert report.uses[0].matched == ("imap-enabled hr@contoso.com",)

    gone = replace(live, expires=date(2026, 11, 1))  # the day before the run
    applied, report = apply_exceptions(findings, [gone], at=AT)
    assert applied[0].status is Status.FAIL and applied[0].exception == gone
    assert [u.state for u in report.uses] == [ExceptionState.EXPIRED]
    last_day = replace(live, expires=date(2026, 11, 2))  # accepted through its expiry day
    assert apply_exceptions(findings, [last_day], at=AT)[0][0].status is Status.ACCEPTED


def test_patterns_tenant_findings_specificity_and_what_matched_nothing() -> None:
    room = _finding(Status.FAIL, "room-1@contoso.com")
    tenant = _finding(Status.FAIL, None, "weak-smart-lockout")
    other = _finding(Status.FAIL, "hr@contoso.com", "pop-enabled")
    broad = _exception("imap-enabled", "room-*@contoso.com")
    exact = _exception("imap-enabled", "room-1@contoso.com", expires=date(2026, 11, 10))
    every = _exception("*", "hr@contoso.com")
    lockout = _exception("weak-smart-lockout", None)
    unused = _exception("imap-enabled", "nobody@contoso.com")
    applied, report = apply_exceptions([room, tenant, other],
                                       [broad, exact, every, lockout, unused], at=AT)
    assert [f.status for f in applied] == [Status.ACCEPTED] * 3
    assert applied[0].exception == exact  # the exact mailbox beats the pattern
    assert applied[1].exception == lockout and applied[2].exception == every
    assert [u.exception for u in report.unused] == [unused]
    assert [u.exception for u in report.expiring] == [exact]  # 8 days left
    assert report.uses[0].matched == ("imap-enabled room-1@contoso.com",)  # not unused
    # A mailbox exception never covers the tenant-wide finding, nor the other way round.
    assert not lockout.covers("weak-smart-lockout", "hr@contoso.com")
    assert not _exception("weak-smart-lockout", "hr@contoso.com").covers(
        "weak-smart-lockout", None)


def test_an_accepted_finding_adds_nothing_to_the_mailbox_risk() -> None:
    snap = snapshot()
    plain = {a.upn: a for a in assess(snap).assessments}["hr@contoso.com"]
    assert plain.risk_score > 0 and "imap-enabled" in plain.failing
    every = [_exception(check, "hr@contoso.com") for check in plain.failing]
    result = assess(snap, exceptions=every, at=AT)
    hr = {a.upn: a for a in result.assessments}["hr@contoso.com"]
    assert hr.failing == () and hr.risk_score == 0 and hr.attack_paths == ()
    assert hr.accepted == tuple(sorted(plain.failing))
    assert result.status_counts()["accepted"] == len(plain.failing)
    assert result.failures() == tuple(f for f in result.findings if f.status is Status.FAIL)
    one = assess(snap, exceptions=[every[0]], at=AT)
    partial = {a.upn: a for a in one.assessments}["hr@contoso.com"]
    assert 0 < partial.risk_score <= plain.risk_score
    assert assess(snap).exceptions is None and one.exceptions is not None


def test_exceptions_need_the_run_time() -> None:
    with pytest.raises(ValueError, match="run's time"):
        assess(snapshot(), exceptions=[])


def test_the_shipped_example_file_is_valid() -> None:
    from importlib import resources

    example = resources.files("mailwarden.assess").joinpath("exceptions.example.yaml")
    found = parse_exceptions(example.read_text(encoding="utf-8"), "example", CHECKS)
    assert [e.check for e in found] == ["resource-account-enabled", "direct-sign-in-observed",
                                        "*", "weak-smart-lockout"]
