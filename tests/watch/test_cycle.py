"""Whole cycles over a growing recorded tenant: a kill between storing and sending (and
one while sending), records that arrive meanwhile; incidents cut off at the window's edge.
New records between cycles on the emulator: test_emulator.py; acknowledgement and real
delivery through the command line: test_cli.py."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mailwarden.detect import context_from_scan, detect_directory
from mailwarden.detect.lifecycle import Observed
from mailwarden.model.incidents import IncidentStatus, TrackedIncident
from mailwarden.notify import Channel, Delivery, FileOutbox
from mailwarden.pipeline import scan_directory
from mailwarden.store import list_runs
from mailwarden.store.incidents import IncidentStore
from mailwarden.store.location import resolve_db_url
from mailwarden.times import read_time
from mailwarden.watch import DIRECTORY_CHECKPOINT, DirectorySource, WatchConfig
from mailwarden.watch.cycle import OUTBOX_FILE, _edge_suppressed, run_cycle
from mailwarden.watch.records import record_of
from mailwarden.watch.source import Pull
from mailwarden.watch.window import LogWindow
from tests.watch.watch_helpers import (
    FIRST_CUT,
    SPRAY_CUT,
    Recorder,
    append_slice,
    routing,
    slice_ids,
    write_tenant,
)

CLOCK = datetime(2026, 11, 1, tzinfo=UTC)


class Killed(BaseException):
    """Stands for the process being killed: nothing below the test catches it."""


def kill_at(name: str) -> object:
    def hook(phase: str) -> None:
        if phase == name:
            raise Killed(phase)
    return hook


def window_ids(state: Path) -> list[str]:
    return [json.loads(line)["_watch_id"] for path in LogWindow(state / "tenant" / "logs").files()
            for line in path.read_text(encoding="utf-8").splitlines()]


def alert_ids_of(directory: Path) -> set[str]:
    """What detection over the whole source directory raises: the alerts that must reach
    someone, judged independently of the watcher."""
    scan = scan_directory(directory)
    detection = detect_directory(directory, context_from_scan(scan.snapshot, scan.result))
    return {alert.id for alert in detection.alerts}


def setup(tmp_path: Path) -> tuple[Path, WatchConfig, DirectorySource]:
    source_dir = write_tenant(tmp_path / "source", until=FIRST_CUT)
    state = tmp_path / "state"
    config = WatchConfig(state_dir=state, routing=routing(tmp_path))
    return source_dir, config, DirectorySource(source_dir, state / DIRECTORY_CHECKPOINT)


def test_a_kill_between_storing_and_sending_loses_and_repeats_nothing(tmp_path: Path) -> None:
    source_dir, config, source = setup(tmp_path)
    sent = Recorder()

    with pytest.raises(Killed):
        run_cycle(config, source, sent, clock=lambda: CLOCK, on_phase=kill_at("stored-notices"))
    assert sent.sent == []
    assert not (config.state_dir / DIRECTORY_CHECKPOINT).exists()  # not moved
    stored = FileOutbox(config.state_dir / OUTBOX_FILE).pending()
    assert stored

    # New records arrive while the watcher is down; on restart it is killed again while
    # sending (after one delivery reached its channel: the first cycle sends digests), then
    # runs through.
    append_slice(source_dir, FIRST_CUT, SPRAY_CUT)
    accepted = 0

    def dies_on_second(channel: Channel, delivery: Delivery) -> None:
        nonlocal accepted
        if accepted == 1:
            raise Killed("mid-send")
        accepted += 1
        sent(channel, delivery)

    restarted = DirectorySource(source_dir, config.state_dir / DIRECTORY_CHECKPOINT)
    with pytest.raises(Killed):
        run_cycle(config, restarted, dies_on_second, clock=lambda: CLOCK + timedelta(minutes=15))
    assert len(sent.sent) == 1
    report = run_cycle(config, restarted, sent, clock=lambda: CLOCK + timedelta(minutes=30))
    assert report.deliveries_failed == 0
    assert report.records_written == 0  # the killed cycle had already kept them

    # Every notice reached its channel exactly once, and every alert was told of, in the
    # notice of its incident.
    assert [k for k, n in Counter(d.id for d in sent.sent).items() if n > 1] == []
    assert {d.id for d in stored} <= {d.id for d in sent.sent}
    with IncidentStore.open(config.database) as store:
        incidents = store.load()
    held = {a: f"incident:{i.id}" for i in incidents.values() for a in i.alert_ids}
    assert set(held) == alert_ids_of(source_dir)
    told = {key for key in sent.keys() if not key.startswith("finding:")}  # noqa: SIM118
    assert set(held.values()) == told
    assert {i.status for i in incidents.values()} == {IncidentStatus.NOTIFIED}
    # Every record was read, none twice; the checkpoint moved past all of them.
    kept = window_ids(config.state_dir)
    assert len(kept) == len(set(kept))
    assert set(kept) == slice_ids(None, SPRAY_CUT)
    assert restarted.pull().records == ()

    quiet = run_cycle(config, restarted, sent, clock=lambda: CLOCK + timedelta(minutes=45))
    assert (quiet.records_new, quiet.deliveries_sent) == (0, 0)
    assert quiet.notices == {"skip": quiet.incidents_open}


def test_a_new_incident_cut_off_at_the_window_edge_is_held_back(tmp_path: Path) -> None:
    window = LogWindow(tmp_path / "logs")
    old = record_of("signIns", {"id": "x", "createdDateTime": "2026-10-02T00:00:00Z"})
    new = record_of("signIns", {"id": "y", "createdDateTime": "2026-10-09T00:00:00Z"})
    assert old is not None and new is not None
    window.append([old, new])
    cut = incident("cut", "2026-10-02T01:00:00Z", "2026-10-03T00:00:00Z")
    fresh = incident("fresh", "2026-10-02T01:00:00Z", "2026-10-09T00:00:00Z")
    later = incident("later", "2026-10-06T00:00:00Z", "2026-10-06T00:00:00Z")
    found = Observed(incidents={i.id: i for i in (cut, fresh, later)},
                     changed=frozenset({"cut", "fresh", "later"}), forgotten=frozenset(),
                     of_alert={"a1": "cut", "a2": "fresh", "a3": "later"})
    batch = Pull(records=(new,), checkpoint=None)
    kept, dropped = _edge_suppressed(found, {}, window=window, truncated=True, batch=batch,
                                     remembered=())
    assert (sorted(kept.incidents), sorted(kept.changed), dropped) == (
        ["fresh", "later"], ["fresh", "later"], 1)
    assert "a1" not in kept.of_alert
    known, _ = _edge_suppressed(found, {"cut": cut}, window=window, truncated=True,
                                batch=batch, remembered=())
    assert "cut" in known.incidents  # already raised: its lifecycle decides
    sent, _ = _edge_suppressed(found, {}, window=window, truncated=True, batch=batch,
                               remembered={"incident:cut"})
    assert "cut" in sent.incidents  # already notified: de-duplication decides
    untouched, _ = _edge_suppressed(found, {}, window=window, truncated=False, batch=batch,
                                    remembered=())
    assert untouched == found  # nothing was ever dropped: the edge is the real start


def incident(ident: str, first_seen: str, last_seen: str) -> TrackedIncident:
    return TrackedIncident(
        id=ident, tenant_id="t", status=IncidentStatus.OPEN, category="ownerless-sign-in",
        categories=("ownerless-sign-in",), families=("mailbox-access",), severity="high",
        targets=(), places=(), targeted=True, source_ips=(), actors=(),
        first_seen=read_time(first_seen), last_seen=read_time(last_seen), alerts={},
        marks=(), summary="", opened_at=CLOCK, updated_at=CLOCK)


def test_a_quiet_cycle_stores_no_copy_of_the_last_run(tmp_path: Path) -> None:
    source_dir, config, source = setup(tmp_path)
    sent = Recorder()
    first = run_cycle(config, source, sent, clock=lambda: CLOCK)
    quiet = run_cycle(config, source, sent, clock=lambda: CLOCK + timedelta(minutes=15))
    assert first.run_stored and not quiet.run_stored
    assert quiet.run_id == first.run_id
    assert [r.id for r in list_runs(config.database)] == [first.run_id]
    size = Path(str(resolve_db_url(config.database).database)).stat().st_size
    for at in (CLOCK + timedelta(minutes=m) for m in (30, 45, 60)):
        again = run_cycle(config, source, sent, clock=lambda at=at: at)  # type: ignore[misc]
        assert not again.run_stored
    assert Path(str(resolve_db_url(config.database).database)).stat().st_size == size

    # New records change the alerts: that cycle's run is stored.
    append_slice(source_dir, FIRST_CUT, SPRAY_CUT)
    changed = run_cycle(config, source, sent, clock=lambda: CLOCK + timedelta(minutes=75))
    assert changed.run_stored and changed.run_id == first.run_id + 1
    # Another database has none of these runs: the next cycle stores its run there.
    elsewhere = replace(config, db_url=str(tmp_path / "other.db"))
    moved = run_cycle(elsewhere, source, sent, clock=lambda: CLOCK + timedelta(minutes=90))
    assert moved.run_stored
    assert [r.id for r in list_runs(elsewhere.database)] == [moved.run_id]
