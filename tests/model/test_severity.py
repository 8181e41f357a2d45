"""The one list of severities: its order, its ranks, and the tables that translate it."""

from __future__ import annotations

import pytest

from mailwarden.model.findings import Severity


def test_severities_are_listed_worst_first_and_ranked_so() -> None:
    assert [s.value for s in Severity] == ["critical", "high", "medium", "low", "info"]
    assert [s.rank for s in Severity] == [4, 3, 2, 1, 0]


@pytest.mark.parametrize(("value", "expected"), [
    ("critical", Severity.CRITICAL), ("info", Severity.INFO), (Severity.HIGH, Severity.HIGH),
    ("CRITICAL", None), ("severe", None), (None, None), (3, None), ([], None)])
def test_a_document_names_a_severity_or_none(value: object, expected: Severity | None) -> None:
    assert Severity.named(value) is expected


def test_an_unknown_severity_ranks_with_info() -> None:
    assert Severity.rank_of("high") == 3
    assert Severity.rank_of("bogus") == Severity.rank_of(None) == Severity.INFO.rank


def test_every_table_that_translates_a_severity_covers_every_one() -> None:
    from mailwarden.cli.views import _SEVERITY_STYLE
    from mailwarden.notify.cef import CEF_SEVERITY, SYSLOG_SEVERITY
    from mailwarden.report.ocsf import _SEVERITY as OCSF_SEVERITY
    from mailwarden.report.sarif import _LEVEL, _SECURITY_SEVERITY

    for table in (CEF_SEVERITY, SYSLOG_SEVERITY, OCSF_SEVERITY, _LEVEL, _SECURITY_SEVERITY,
                  _SEVERITY_STYLE):
        assert set(table) == set(Severity)
