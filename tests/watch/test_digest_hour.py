"""`--digest-hour`: non-critical notices held in the outbox until the first cycle at or
after the hour (UTC), then sent as one digest per recipient and channel; critical ones at
once; the hold and the release are restart-safe."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailwarden.notify import FileOutbox, alert_notice, plan_notifications
from mailwarden.notify.dispatch import Plan
from mailwarden.watch import DIRECTORY_CHECKPOINT, DirectorySource, WatchConfig
from mailwarden.watch.cycle import OUTBOX_FILE, FirstCycle, run_cycle, schedule
from tests.notify.notify_peers import alert, routing_of
from tests.notify.test_digest import CUSTODIANS, ROUTING
from tests.watch.watch_helpers import (
    FIRST_CUT,
    Recorder,
    append_slice,
    routing,
    write_tenant,
)

MORNING = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)
#: Cycle 2 reads the logs up to here: critical and lesser incidents alike.
LATER = datetime(2026, 10, 25, tzinfo=UTC)


def plan(*alerts: dict[str, object]) -> Plan:
    return plan_notifications([alert_notice(a) for a in alerts], routing_of(ROUTING),
                              CUSTODIANS, {})


def test_before_the_hour_only_critical_goes_and_the_rest_is_held() -> None:
    planned = plan(alert("c1", severity="critical"), alert("m1", severity="medium"))
    before = schedule(planned, routing_of(ROUTING), first=None, digest_hour=8, now=MORNING)
    assert {d.notice.key for d in before.store} == {"alert:c1", "alert:m1"}
    # (the medium one only as its syslog event: a SIEM gets each event as it comes)
    assert {d.channel for d in before.store if d.notice.key == "alert:m1"} == {"siem"}
    assert {d.notice.key for d in before.hold} == {"alert:m1"}
    assert before.release == () and before.digest_day is None

    later = plan(alert("m2", severity="low", target="legal@contoso.example"))
    due = schedule(later, routing_of(ROUTING), first=None, digest_hour=8, held=before.hold,
                   now=MORNING + timedelta(hours=1, minutes=30))
    assert due.release == tuple(d.id for d in before.hold)
    assert due.digest_day == "2026-11-02" and due.hold == ()
    hook = next(d for d in due.store if d.channel == "hook")
    assert [i["key"] for i in hook.notice.items] == ["alert:m1", "alert:m2"]

    # Once the day's digest went, the rest of the day is held again.
    again = schedule(later, routing_of(ROUTING), first=None, digest_hour=8,
                     digest_day="2026-11-02", now=MORNING + timedelta(hours=3))
    assert {d.notice.key for d in again.hold} == {"alert:m2"}


def test_a_first_cycle_summary_is_sent_whatever_the_hour() -> None:
    planned = plan(alert("m1", severity="medium"))
    first = schedule(planned, routing_of(ROUTING), first=FirstCycle.SUMMARY, digest_hour=8,
                     now=MORNING)
    assert first.hold == () and first.store
    assert all(d.notice.kind == "digest" for d in first.store if d.channel != "siem")


def test_held_deliveries_survive_a_restart_and_leave_in_one_write(tmp_path: Path) -> None:
    planned = plan(alert("m1", severity="medium"))
    held = schedule(planned, routing_of(ROUTING), first=None, digest_hour=8, now=MORNING)
    path = tmp_path / "outbox.json"
    with FileOutbox(path) as outbox:
        outbox.store(held.store, planned.remember, hold=held.hold)
        outbox.store(held.store, planned.remember, hold=held.hold)  # repeated: held once
    with FileOutbox(path) as outbox:  # a restart
        assert [d.id for d in outbox.held()] == [d.id for d in held.hold]
        assert not {d.id for d in outbox.pending()} & {d.id for d in held.hold}
        due = schedule(plan(), routing_of(ROUTING), first=None, digest_hour=8,
                       held=outbox.held(), digest_day=outbox.digest_day(),
                       now=MORNING + timedelta(hours=2))
        outbox.store(due.store, (), release=due.release, digest_day=due.digest_day)
    with FileOutbox(path) as outbox:
        assert outbox.held() == () and outbox.digest_day() == "2026-11-02"
        digests = [d for d in outbox.pending() if d.notice.kind == "digest"]
        assert digests == [] or all(d.notice.items for d in digests)
        assert {d.notice.key for d in outbox.pending()} >= {"alert:m1"}


def test_a_watcher_with_a_digest_hour_holds_then_sends_the_day_s_digest(
        tmp_path: Path) -> None:
    source_dir = write_tenant(tmp_path / "source", until=FIRST_CUT)
    state = tmp_path / "state"
    config = replace(WatchConfig(state_dir=state, routing=routing(tmp_path), digest_hour=8),
                     first_cycle=FirstCycle.QUIET)
    source = DirectorySource(source_dir, state / DIRECTORY_CHECKPOINT)
    sent = Recorder()
    run_cycle(config, source, sent, clock=lambda: MORNING - timedelta(hours=1))
    assert sent.sent == []

    append_slice(source_dir, FIRST_CUT, LATER)  # the fast spray of 5 October, and more
    early = run_cycle(config, source, sent, clock=lambda: MORNING)
    assert early.deliveries_held > 0
    assert all(d.notice.severity == "critical" for d in sent.sent)
    with FileOutbox(state / OUTBOX_FILE) as outbox:
        held = {d.notice.key for d in outbox.held()}

    before = len(sent.sent)
    due = run_cycle(config, source, sent, clock=lambda: MORNING + timedelta(hours=1))
    assert due.deliveries_held == 0
    # One message on the one channel: what was held, as a digest (or as itself if alone).
    (message,) = sent.sent[before:]
    told = {str(i["key"]) for i in message.notice.items} or {message.notice.key}
    assert told == held
    with FileOutbox(state / OUTBOX_FILE) as outbox:
        assert outbox.held() == ()


def test_an_hour_outside_the_day_is_refused(tmp_path: Path) -> None:
    routing_path = tmp_path / "routing.yaml"
    routing_path.write_text("channels: {}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mailwarden", "watch", "--once", "--routing",
         str(routing_path), "--state-dir", str(tmp_path / "state"), "--digest-hour", "24"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2
    assert "--digest-hour 24: give an hour from 0 to 23 (UTC)" in result.stderr
