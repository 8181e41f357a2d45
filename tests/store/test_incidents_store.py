"""Incidents in the history database, SQLite and PostgreSQL: migration 0003, a round trip,
an acknowledgement (and the console's triage) made while a watch cycle ran kept, filters,
runs' alerts with their incident."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, select

from mailwarden.detect.lifecycle import acknowledge, observe, resolve
from mailwarden.detect.triage import CONFIRMED, DENIED, answer, assign, raised, snooze
from mailwarden.model.incidents import IncidentStatus, TrackedIncident
from mailwarden.store import History, store_run
from mailwarden.store.incidents import IncidentFilter, IncidentStore, select_incidents
from mailwarden.store.migrate import downgrade, upgrade
from mailwarden.store.tables import alerts as alerts_table
from tests.detect.test_incidents import HR, IT, alert
from tests.report.report_factory import small_run

NOW = datetime(2026, 10, 21, tzinfo=UTC)


def incidents() -> dict[str, TrackedIncident]:
    observed = observe({}, [alert("a", "ownerless-sign-in", HR, severity="critical",
                                  facts={"proven": True}),
                            alert("b", "mass-send", HR, start=timedelta(hours=1)),
                            alert("c", "password-reset", IT, ip="198.51.100.1")],
                       tenant_id="tenant-1", now=NOW, as_of=NOW)
    return dict(observed.incidents)


def test_migration_0003_adds_and_removes_the_incidents(db_url: str) -> None:
    with History.open(db_url) as history:
        assert "incidents" in inspect(history.engine).get_table_names()
        columns = {c["name"] for c in inspect(history.engine).get_columns("alerts")}
        assert "incident_id" in columns
        downgrade(history.engine, "0002")
        assert "incidents" not in inspect(history.engine).get_table_names()
        upgrade(history.engine)
        assert "incidents" in inspect(history.engine).get_table_names()


def test_incidents_read_back_as_they_were_written(db_url: str) -> None:
    known = incidents()
    acked = acknowledge(next(iter(known.values())), now=NOW, by="ana", note="on it")
    known[acked.id] = acked
    with IncidentStore.open(db_url) as store:
        store.save("tenant-1", known.values())
        assert store.load("tenant-1") == known
        assert store.load("other") == {}
        light = store.load("tenant-1", with_alerts=False)
        assert light == {i: dataclasses.replace(v, alerts={}) for i, v in known.items()}
        assert all(v.alerts for v in known.values())
        (gone, kept) = sorted(known)
        store.save("tenant-1", [], forgotten=[gone])
        assert set(store.load()) == {kept}


def test_an_acknowledgement_made_during_a_cycle_is_kept(db_url: str) -> None:
    known = incidents()
    with IncidentStore.open(db_url) as store:
        store.save("tenant-1", known.values())
        # `alerts ack` writes while a cycle holds what it read before.
        (target,) = [i for i in known.values() if HR in i.targets]
        store.save("tenant-1", [acknowledge(target, now=NOW, by="ana", note=None)])
        cycle = dataclasses.replace(target, updated_at=NOW + timedelta(minutes=1))
        store.save("tenant-1", [cycle])
        kept = store.load("tenant-1")[target.id]
    assert kept.status is IncidentStatus.ACKNOWLEDGED and kept.acknowledged_by == "ana"
    assert kept.updated_at == NOW + timedelta(minutes=1)


def test_filters_choose_incidents() -> None:
    known = list(incidents().values())

    def chosen(**kwargs: object) -> list[str]:
        return [i.category for i in select_incidents(known, IncidentFilter(**kwargs))]
    assert chosen() == ["ownerless-sign-in", "password-reset"]
    assert chosen(mailbox=IT) == ["password-reset"]
    assert chosen(category="mass-send") == ["ownerless-sign-in"]
    assert chosen(severity="critical") == ["ownerless-sign-in"]
    assert chosen(since=NOW) == []
    first = known[0].id
    assert chosen(incidents=(first[:8],)) == [known[0].category]
    acked = acknowledge(known[0], now=NOW, by="ana", note=None)
    assert [i.id for i in select_incidents([acked], IncidentFilter())] == []
    assert [i.id for i in select_incidents([acked], IncidentFilter(include_closed=True))
            ] == [first]


def test_a_runs_alerts_carry_their_incident(db_url: str) -> None:
    run = small_run()
    run_id = store_run(run, db_url)
    with History.open(db_url) as history, history.engine.connect() as connection:
        rows = connection.execute(select(alerts_table.c.alert_id, alerts_table.c.incident_id)
                                  .where(alerts_table.c.run_id == run_id)).all()
    assert rows and all(incident for _, incident in rows)
    assert {i for _, i in rows} == {i["id"] for i in run.incidents}


def test_the_consoles_triage_is_kept_when_the_watcher_writes(db_url: str) -> None:
    """Assigned, snoozed and answered while a cycle held what it read before: the cycle's
    write (a new alert, a new severity) keeps all three."""
    known = incidents()
    (target,) = [i for i in known.values() if IT in i.targets]
    with IncidentStore.open(db_url) as store:
        store.save("tenant-1", known.values())
        store.update("tenant-1", target.id, lambda i: assign(i, to="ana", now=NOW))
        store.update("tenant-1", target.id,
                     lambda i: snooze(i, until=NOW + timedelta(days=3), now=NOW))
        store.update("tenant-1", target.id, lambda i: answer(i, given=CONFIRMED, now=NOW))
        grown = observe({target.id: target},
                        [alert("c", "password-reset", IT, ip="198.51.100.1",
                               span=timedelta(minutes=30))],
                        tenant_id="tenant-1", now=NOW + timedelta(minutes=5), as_of=NOW)
        store.save("tenant-1", [grown.incidents[target.id]])
        kept = store.load("tenant-1")[target.id]
    assert kept.assignee == "ana" and kept.snoozed_until == NOW + timedelta(days=3)
    assert kept.answer == CONFIRMED and kept.answered_at == NOW
    assert kept.updated_at == NOW + timedelta(minutes=5)
    assert kept.last_seen == grown.incidents[target.id].last_seen


def test_a_denial_made_during_a_cycle_keeps_its_raised_severity_and_reopening(
        db_url: str) -> None:
    known = incidents()
    (target,) = [i for i in known.values() if IT in i.targets]
    resolved = resolve(target, now=NOW, by="ana", note="looked fine")
    with IncidentStore.open(db_url) as store:
        store.save("tenant-1", [resolved])
        cycle_read = store.load("tenant-1")[target.id]
        result = store.update("tenant-1", target.id,
                              lambda i: answer(i, given=DENIED, now=NOW))
        assert result is not None
        before, after = result
        assert after.live and after.reopened and after.severity == raised(before.severity)
        # The cycle writes what it read before the denial (resolved, old severity).
        store.save("tenant-1", [dataclasses.replace(cycle_read, updated_at=NOW)])
        kept = store.load("tenant-1")[target.id]
        assert kept.live and kept.answer == DENIED and kept.severity == after.severity
        # A second answer changes nothing: the first one stands.
        again = store.update("tenant-1", target.id,
                             lambda i: answer(i, given=CONFIRMED, now=NOW))
        assert again is not None and again[1] == again[0]
        assert store.update("tenant-1", "no-such-incident", lambda i: i) is None
