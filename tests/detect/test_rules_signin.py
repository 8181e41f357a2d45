"""Spray, brute force, lockout, ownerless and legacy sign-in rules: positive and negative."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from mailwarden.detect import DetectContext, OwnerlessAccount
from tests.detect.detect_factory import alerts_of, at, run, signin, upn

HR = upn("hr")
CONTEXT = DetectContext(ownerless=(OwnerlessAccount(upn=HR, id="id-hr", kind="shared"),),
                        departed=(), guests=(), verified_domains=("contoso.example",), grants=())
USERS = [f"user{n:02d}" for n in range(30)]


def spray_rules(result: object) -> list[object]:
    return [a for a in result.alerts if a.category == "password-spray"]  # type: ignore[attr-defined]


def test_fast_spray_from_one_ip(tmp_path: Path) -> None:
    records = [signin(at(n * 0.5), user, "203.0.113.9", 50126) for n, user in enumerate(USERS)]
    result = run(tmp_path, CONTEXT, signins=records)
    [alert] = spray_rules(result)
    assert alert.rule_id == "spray-ip" and alert.severity == "high"
    assert alert.source_ips == ("203.0.113.9",) and alert.event_count == 30
    assert len(alert.targets) == 30 and alert.target is None
    assert "30 accounts failed" in alert.summary
    assert len(alert.evidence) == 30 and alert.evidence[0]["result_code"] == 50126


def test_low_and_slow_spray_one_guess_per_account_per_hour(tmp_path: Path) -> None:
    records = [signin(at(hours=n), user, "203.0.113.9", 50126) for n, user in enumerate(USERS)]
    [alert] = spray_rules(run(tmp_path, CONTEXT, signins=records))
    assert alert.rule_id == "spray-ip" and len(alert.targets) == 30


def test_daily_spray_rounds_stay_one_campaign(tmp_path: Path) -> None:
    records = [signin(at(days=day, minutes=n), user, "203.0.113.9", 50126)
               for day in range(3) for n, user in enumerate(USERS[:12])]
    [alert] = spray_rules(run(tmp_path, CONTEXT, signins=records))
    assert alert.event_count == 36 and len(alert.targets) == 12


def test_spray_slower_than_the_gap_is_not_chained(tmp_path: Path) -> None:
    records = [signin(at(days=3 * n), user, "203.0.113.9", 50126)
               for n, user in enumerate(USERS[:12])]
    assert spray_rules(run(tmp_path, CONTEXT, signins=records)) == []


def test_rotating_addresses_in_one_network(tmp_path: Path) -> None:
    records = [signin(at(n * 3), user, f"198.51.100.{n + 1}", 50126)
               for n, user in enumerate(USERS[:15])]
    result = run(tmp_path, CONTEXT, signins=records)
    rules = {a.rule_id for a in spray_rules(result)}
    assert "spray-network" in rules and "spray-ip" not in rules
    alert = next(a for a in spray_rules(result) if a.rule_id == "spray-network")
    assert alert.facts["source"] == "198.51.100.0/24" and len(alert.source_ips) == 15


def test_one_user_agent_across_many_networks(tmp_path: Path) -> None:
    records = [signin(at(n * 3), user, f"10.{n}.{n}.1", 50126, agent="python-requests/2.31")
               for n, user in enumerate(USERS[:15])]
    alerts = spray_rules(run(tmp_path, CONTEXT, signins=records))
    assert [a.rule_id for a in alerts] == ["spray-user-agent"]
    assert alerts[0].facts["source"] == "python-requests/2.31"


def test_mfa_required_after_a_spray_escalates(tmp_path: Path) -> None:
    records = [signin(at(n), user, "203.0.113.9", 50126) for n, user in enumerate(USERS[:12])]
    records.append(signin(at(30), upn("user99"), "203.0.113.9", 50076))
    [alert] = spray_rules(run(tmp_path, CONTEXT, signins=records))
    assert alert.severity == "critical" and alert.facts["proven"] == [upn("user99")]
    assert "password was right" in alert.summary
    assert alert.evidence[0]["result_code"] == 50076


def test_spray_hitting_an_ownerless_account_names_it(tmp_path: Path) -> None:
    records = [signin(at(n), user, "203.0.113.9", 50126) for n, user in enumerate(USERS[:12])]
    records.append(signin(at(20), HR, "203.0.113.9", 50126, client="IMAP4"))
    [alert] = spray_rules(run(tmp_path, CONTEXT, signins=records))
    assert alert.facts["ownerless_targets"] == [HR]


def test_office_nat_with_a_few_typos_is_not_a_spray(tmp_path: Path) -> None:
    office = "192.0.2.10"
    people = [f"staff{n:03d}" for n in range(120)]
    records = [signin(at(n), person, office) for n, person in enumerate(people)]
    for n, person in enumerate(people[:14]):  # typos, then the right password
        records.append(signin(at(200 + n * 5), person, office, 50126))
        records.append(signin(at(201 + n * 5), person, office))
    for n, person in enumerate(people[20:31]):  # gave up: forgot the password
        records.append(signin(at(400 + n * 7), person, office, 50126))
    assert spray_rules(run(tmp_path, CONTEXT, signins=records)) == []


def test_a_typo_is_a_failure_followed_by_success_within_typo_minutes(tmp_path: Path) -> None:
    """Failures spread over the clock (so the typo window straddles the half hours), each
    followed by the account's success from the same address 29 or 31 minutes later."""
    for delay, sprayed in ((29, False), (31, True)):
        records = []
        for n, user in enumerate(USERS[:12]):
            failed = at(7 + n * 13)
            records.append(signin(failed, user, "203.0.113.9", 50126))
            records.append(signin(failed + timedelta(minutes=delay), user, "203.0.113.9"))
        (tmp_path / str(delay)).mkdir()
        alerts = spray_rules(run(tmp_path / str(delay), CONTEXT, signins=records))
        assert [a.rule_id for a in alerts] == (["spray-ip"] if sprayed else []), delay
        if sprayed:  # the later successes prove the guesses: escalated
            assert alerts[0].severity == "critical"
            assert alerts[0].facts["unresolved"] == 12


def test_typos_then_success_is_not_brute_force(tmp_path: Path) -> None:
    records = [signin(at(n), "ann", "192.0.2.10", 50126) for n in range(3)]
    records.append(signin(at(4), "ann", "192.0.2.10"))
    result = run(tmp_path, CONTEXT, signins=records)
    assert [a for a in result.alerts if a.category == "brute-force"] == []


def test_brute_force_against_one_account_then_success(tmp_path: Path) -> None:
    records = [signin(at(n), HR, "203.0.113.77", 50126, client="IMAP4") for n in range(15)]
    records.append(signin(at(20), HR, "203.0.113.77", 0, client="IMAP4"))
    result = run(tmp_path, CONTEXT, signins=records)
    [alert] = alerts_of(result, "brute-force-account")
    assert alert.severity == "critical" and alert.target == HR and alert.event_count == 15
    assert "then succeeded" in alert.summary


def test_brute_force_on_a_person_without_success_is_medium(tmp_path: Path) -> None:
    records = [signin(at(n * 2), "bob", "203.0.113.77", 50126) for n in range(12)]
    [alert] = alerts_of(run(tmp_path, CONTEXT, signins=records), "brute-force-account")
    assert alert.severity == "medium"


def test_lockouts(tmp_path: Path) -> None:
    records = [signin(at(n), HR, "203.0.113.77", 50053) for n in range(3)]
    records += [signin(at(n), "bob", "203.0.113.77", 50053) for n in range(2)]
    alerts = {a.target: a for a in alerts_of(run(tmp_path, CONTEXT, signins=records),
                                             "account-lockout")}
    assert alerts[HR].severity == "high" and alerts[HR].event_count == 3
    assert alerts[upn("bob")].severity == "medium"


def test_ownerless_sign_in_critical_over_legacy_protocol(tmp_path: Path) -> None:
    records = [signin(at(0), HR, "203.0.113.5", 0, client="IMAP4"),
               signin(at(days=1), HR, "203.0.113.5", 0, client="Browser"),
               signin(at(0), "ann", "192.0.2.10", 0, client="IMAP4")]
    alerts = sorted(alerts_of(run(tmp_path, CONTEXT, signins=records), "ownerless-sign-in"),
                    key=lambda a: a.first_seen)
    assert [(a.target, a.severity) for a in alerts] == [(HR, "critical"), (HR, "high")]
    assert "IMAP4" in alerts[0].summary


def test_ownerless_account_found_by_object_id(tmp_path: Path) -> None:
    record = signin(at(0), "someone-else", "203.0.113.5", 0)
    record.update(userPrincipalName=None, userId="ID-HR")
    [alert] = alerts_of(run(tmp_path, CONTEXT, signins=[record]), "ownerless-sign-in")
    assert alert.target == HR


def test_legacy_protocol_attempts(tmp_path: Path) -> None:
    records = [signin(at(n), HR, "203.0.113.5", 50126, client="Authenticated SMTP")
               for n in range(3)]
    records.append(signin(at(5), HR, "203.0.113.5", 50126, client="Browser"))
    [alert] = alerts_of(run(tmp_path, CONTEXT, signins=records), "legacy-protocol-auth")
    assert alert.event_count == 3 and alert.severity == "medium"
    assert alert.facts["protocols"] == ["Authenticated SMTP"]


def test_rules_needing_the_tenant_report_they_could_not_run(tmp_path: Path) -> None:
    records = [signin(at(0), HR, "203.0.113.5", 0, client="IMAP4")]
    result = run(tmp_path, DetectContext(), signins=records)
    runs = {r.rule_id: r for r in result.rule_runs}
    assert not runs["ownerless-sign-in"].ran
    assert "ownerless" in runs["ownerless-sign-in"].reason
    assert runs["spray-ip"].ran and "ownerless" in runs["spray-ip"].reason
    assert not runs["audit-tampering"].ran
    assert "no mailbox audit" in runs["audit-tampering"].reason
    assert result.alerts == ()


def test_a_leavers_unlicensed_mailbox_counts_from_the_day_they_left(tmp_path: Path) -> None:
    from mailwarden.detect import DepartedAccount

    ann = upn("ann")
    context = DetectContext(
        ownerless=(OwnerlessAccount(upn=ann, kind="unlicensed-user"),),
        departed=(DepartedAccount(upn=ann, since=at(days=2)),), guests=(),
        verified_domains=("contoso.example",), grants=())
    records = [signin(at(days=1), ann, "198.51.100.4"),  # her own mailbox, before she left
               signin(at(days=3), ann, "198.51.100.9", client="IMAP4")]
    [alert] = alerts_of(run(tmp_path, context, signins=records), "ownerless-sign-in")
    assert alert.event_count == 1 and alert.source_ips == ("198.51.100.9",)
    assert alert.severity == "critical"
