"""Times: aware UTC, naive read as UTC whatever the machine's zone, compared as instants."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from mailwarden.detect.lifecycle import Observed
from mailwarden.model.incidents import IncidentStatus, TrackedIncident
from mailwarden.notify.cef import _epoch_ms
from mailwarden.tenant.lenient import to_datetime
from mailwarden.times import as_utc, iso, iso_with_offset, parse_time, read_time
from mailwarden.watch.cycle import _edge_suppressed
from mailwarden.watch.records import LogRecord
from mailwarden.watch.source import Pull
from mailwarden.watch.window import LogWindow

MIDNIGHT = datetime(2026, 11, 2, tzinfo=UTC)
KOLKATA = timezone(timedelta(hours=5, minutes=30))


@pytest.fixture
def kolkata(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time is five and a half hours ahead of UTC."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    assert time.localtime().tm_gmtoff == 5 * 3600 + 30 * 60  # the zone really applies
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("text", [
    "2026-11-02T00:00:00Z", "2026-11-02T00:00:00+00:00", "2026-11-02T05:30:00+05:30",
    "2026-11-02T00:00:00", " 2026-11-02T00:00:00.0000000Z ", "2026-11-02 00:00:00",
    "2026-11-02",
])
def test_every_spelling_of_an_instant_reads_as_that_instant_in_utc(text: str) -> None:
    moment = parse_time(text)
    assert moment == MIDNIGHT
    assert moment is not None and moment.tzinfo is UTC


@pytest.mark.parametrize("value", [None, "", "  ", "yesterday", 1700000000, "2026-13-01"])
def test_what_is_no_time_reads_as_none(value: Any) -> None:
    assert parse_time(value) is None


def test_read_time_refuses_what_is_no_time() -> None:
    assert read_time("2026-11-02T05:30:00+05:30") == MIDNIGHT
    with pytest.raises(ValueError):
        read_time("yesterday")
    with pytest.raises(ValueError):
        read_time(None)  # type: ignore[arg-type]


def test_as_utc_converts_and_takes_naive_as_utc() -> None:
    assert as_utc(datetime(2026, 11, 2, 5, 30, tzinfo=KOLKATA)).tzinfo is UTC
    assert as_utc(datetime(2026, 11, 2, 5, 30, tzinfo=KOLKATA)) == MIDNIGHT
    assert as_utc(datetime(2026, 11, 2)) == MIDNIGHT
    assert as_utc(MIDNIGHT) is MIDNIGHT


def test_the_two_written_forms() -> None:
    moment = datetime(2026, 11, 2, 8, 30, 0, 120000, tzinfo=UTC)
    assert iso(moment) == "2026-11-02T08:30:00.120000Z"
    assert iso(MIDNIGHT) == "2026-11-02T00:00:00Z"
    assert iso(moment, timespec="seconds") == "2026-11-02T08:30:00Z"
    assert iso(moment, timespec="milliseconds") == "2026-11-02T08:30:00.120Z"
    assert iso(moment.astimezone(KOLKATA)) == "2026-11-02T08:30:00.120000Z"
    assert iso_with_offset(MIDNIGHT) == "2026-11-02T00:00:00+00:00"
    assert iso_with_offset(MIDNIGHT.astimezone(KOLKATA)) == "2026-11-02T00:00:00+00:00"


@pytest.mark.usefixtures("kolkata")
def test_a_naive_time_is_utc_under_another_local_zone() -> None:
    naive = datetime(2026, 11, 2)
    assert naive.astimezone(UTC) != MIDNIGHT  # what reading it as local time would give
    assert parse_time("2026-11-02T00:00:00") == MIDNIGHT
    assert read_time("2026-11-02T00:00:00") == MIDNIGHT
    assert as_utc(naive) == MIDNIGHT
    assert iso(naive) == "2026-11-02T00:00:00Z"
    assert iso_with_offset(naive) == "2026-11-02T00:00:00+00:00"
    assert to_datetime("2026-11-02 00:00:00") == MIDNIGHT
    assert to_datetime(naive) == MIDNIGHT


@pytest.mark.usefixtures("kolkata")
def test_cef_reads_naive_alert_times_as_utc() -> None:
    epoch_ms = int(MIDNIGHT.timestamp() * 1000)
    assert _epoch_ms("2026-11-02T00:00:00") == str(epoch_ms)
    assert _epoch_ms("2026-11-02T00:00:00.5Z") == str(epoch_ms + 500)
    assert _epoch_ms("soon") is None


def test_edge_suppression_compares_alert_times_as_instants(tmp_path: Path) -> None:
    (tmp_path / "signIns.2026-11-02.jsonl").write_text("", encoding="utf-8")
    first_new = MIDNIGHT + timedelta(days=3, microseconds=500000)
    pull = Pull(records=(LogRecord(kind="signIns", time=first_new, id="r", data={}),),
                checkpoint=None)
    # Began inside the cut-off edge and was last seen a fraction of a second before the
    # new records: only a cut-off view of old records.
    stale = _incident("old", first_seen=read_time("2026-11-02T06:00:00Z"),
                      last_seen=read_time("2026-11-05T00:00:00Z"))
    fresh = _incident("new", first_seen=read_time("2026-11-02T06:00:00Z"),
                      last_seen=read_time("2026-11-05T05:30:00.5+05:30"))
    observed = Observed(incidents={"old": stale, "new": fresh},
                        changed=frozenset({"old", "new"}), forgotten=frozenset(),
                        of_alert={"a": "old", "b": "new"})
    kept, dropped = _edge_suppressed(observed, {}, window=LogWindow(tmp_path),
                                     truncated=True, batch=pull, remembered=())
    assert (set(kept.incidents), kept.changed, dict(kept.of_alert), dropped) == (
        {"new"}, frozenset({"new"}), {"b": "new"}, 1)


def _incident(ident: str, *, first_seen: datetime, last_seen: datetime) -> TrackedIncident:
    return TrackedIncident(
        id=ident, tenant_id="t", status=IncidentStatus.OPEN, category="ownerless-sign-in",
        categories=("ownerless-sign-in",), families=("mailbox-access",), severity="high",
        targets=(), places=(), targeted=True, source_ips=(), actors=(),
        first_seen=first_seen, last_seen=last_seen, alerts={}, marks=(), summary="",
        opened_at=MIDNIGHT, updated_at=MIDNIGHT)
