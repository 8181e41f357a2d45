"""The summaries people read: counted nouns in the right number, no clause about nothing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from mailwarden.detect import list_rules
from mailwarden.detect.alerts import build_alert
from mailwarden.detect.rules.wording import joined, listing

HR = "hr@contoso.example"
#: DuckDB hands back naive UTC times.
T = datetime(2026, 3, 2, 9, 0)
RULES = {rule.id: rule for rule in list_rules()}


def summary(rule_id: str, facts: dict[str, Any], *, target: str | None = HR,
            targets: tuple[str, ...] | None = None, ips: tuple[str, ...] = ("203.0.113.5",),
            events: int = 1) -> str:
    row = {"target": target, "targets": list(targets or ([target] if target else [])),
           "source_ips": list(ips), "first_seen": T, "last_seen": T + timedelta(minutes=9),
           "event_count": events, "severity": None, "group_key": None, "window_start": T,
           "facts": json.dumps(facts), "evidence": []}
    return build_alert(RULES[rule_id], row, {}).summary


def spray_facts(accounts: int, unresolved: int, proven: list[str]) -> dict[str, Any]:
    return {"source": "203.0.113.9", "source_kind": "IP address", "accounts": accounts,
            "unresolved": unresolved, "seen": accounts, "ips": 1, "proven": proven,
            "ownerless_targets": []}


def users(count: int) -> tuple[str, ...]:
    return tuple(f"user{n:02d}@contoso.example" for n in range(count))


def test_a_spray_says_how_many_failed_and_for_which_the_password_was_right() -> None:
    text = summary("spray-ip", spray_facts(30, 29, [users(30)[0]]), target=None,
                   targets=users(30), events=30)
    assert text == (
        "Password spray from IP address 203.0.113.9: 30 guesses between 2026-03-02 09:00 UTC "
        "and 2026-03-02 09:09 UTC; 30 accounts failed, 1 of them followed soon by the right "
        "password; the password was right for 1 of them: user00@contoso.example")


def test_a_spray_whose_proven_account_did_not_fail_there_names_it_apart() -> None:
    proven = ["x@contoso.example", "y@contoso.example"]
    text = summary("spray-network", spray_facts(12, 12, proven), target=None,
                   targets=(*users(12), *proven), events=12)
    assert "; 12 accounts failed; the password was right for 2 accounts: x@contoso" in text


def test_a_spray_without_a_proof_says_so() -> None:
    text = summary("spray-user-agent", spray_facts(1, 1, []), target=None, targets=users(1))
    assert "1 guess between" in text and "1 account failed;" in text
    assert text.endswith("; no guess is known to have been right")


@pytest.mark.parametrize(("rule_id", "facts", "events", "expected"), [
    ("brute-force-account", {"failures": 1, "ownerless": True, "succeeded": False}, 1,
     "1 failed sign-in against hr@contoso.example between 2026-03-02 09:00 UTC and "
     "2026-03-02 09:09 UTC"),
    ("brute-force-account", {"failures": 12, "ownerless": True, "succeeded": True}, 12,
     "12 failed sign-ins against hr@contoso.example between 2026-03-02 09:00 UTC and "
     "2026-03-02 09:09 UTC; a sign-in from the same source then succeeded"),
    ("account-lockout", {"lockouts": 1}, 1,
     "hr@contoso.example was locked out 1 time on 2026-03-02 by repeated failed sign-ins"),
    ("ownerless-sign-in", {"protocols": ["IMAP4"], "apps": [], "countries": [],
                           "legacy": True}, 1,
     "1 successful sign-in as ownerless account hr@contoso.example on 2026-03-02 (IMAP4) "
     "from 203.0.113.5"),
    ("legacy-protocol-auth", {"protocols": ["POP3"], "successes": 0, "failures": 1,
                              "codes": [50126]}, 1,
     "1 legacy-protocol sign-in attempt (POP3) against ownerless account hr@contoso.example "
     "on 2026-03-02: 0 succeeded, 1 failed"),
    ("leaver-sign-in", {"apps": [], "since": None}, 1,
     "Departed person hr@contoso.example signed in successfully 1 time on 2026-03-02"),
    ("leaver-address-on-ownerless", {"person": "fired@contoso.example",
                                     "marks": ["device", "ip"]}, 2,
     "Ownerless account hr@contoso.example signed in on 2026-03-02 from the device and IP "
     "address of departed person fired@contoso.example (203.0.113.5)"),
    ("disabled-probe-then-ownerless", {"probed": ["a@contoso.example", "b@contoso.example"]},
     3, "203.0.113.5 tried 2 disabled or departed accounts (a@contoso.example, "
        "b@contoso.example) and then signed in to ownerless account hr@contoso.example"),
    ("mass-send", {"sends": 1, "baseline": 0.0, "max_recipients": 0, "senders": ""}, 1,
     "Ownerless mailbox hr@contoso.example sent 1 message on 2026-03-02 (no earlier sends to "
     "compare with)"),
    ("mass-send", {"sends": 60, "baseline": 3.0, "max_recipients": 1,
                   "senders": "ann@contoso.example"}, 60,
     "Ownerless mailbox hr@contoso.example sent 60 messages on 2026-03-02 (baseline 3.0 a day, "
     "largest message to 1 recipient); sent by ann@contoso.example"),
    ("malicious-inbox-rule", {"rule": "(unnamed)", "actor": None, "behaviour": "deletes mail",
                              "ownerless": True}, 1,
     "An unnamed inbox rule on hr@contoso.example deletes mail"),
    ("external-forwarding-set", {"destinations": "out@gmail.example", "actor": None,
                                 "operation": "New-TransportRule"}, 1,
     "New-TransportRule routes mail outside to out@gmail.example"),
    ("mailbox-permission-change", {"trustee": "x@contoso.example", "rights": "FullAccess",
                                   "actor": None, "trustee_kind": ""}, 1,
     "Someone granted FullAccess on ownerless mailbox hr@contoso.example to "
     "x@contoso.example"),
    ("password-reset", {"activities": "Reset user password", "by": "unknown"}, 1,
     "Reset user password on ownerless account hr@contoso.example by someone the audit log "
     "does not name"),
])
def test_summaries_count_in_the_right_number(rule_id: str, facts: dict[str, Any], events: int,
                                              expected: str) -> None:
    ips = () if rule_id == "leaver-sign-in" else ("203.0.113.5",)
    assert summary(rule_id, facts, events=events, ips=ips) == expected


def test_an_ownerless_sign_in_without_an_address_does_not_say_from_none() -> None:
    text = summary("ownerless-sign-in", {"protocols": ["Browser"], "apps": [],
                                         "countries": [], "legacy": False}, ips=(), events=2)
    assert text.startswith("2 successful sign-ins as") and " from " not in text


def test_lists_and_joins() -> None:
    assert listing([]) == "none"
    assert listing([f"u{n}" for n in range(7)]) == "u0, u1, u2, u3, u4 and 2 more"
    assert joined([]) == "" and joined(["a"]) == "a" and joined(["a", "b", "c"]) == "a, b and c"
