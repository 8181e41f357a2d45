"""The routing file: valid files route as documented; every error names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailwarden.errors import InputError
from mailwarden.notify import Catalogue, load_routing
from mailwarden.notify.redact import redact_url
from tests.notify.notify_peers import CATALOGUE, routing_of, routing_text

EXAMPLE = Path(__file__).resolve().parents[2] / "src/mailwarden/notify/routing.example.yaml"


def test_the_example_file_is_valid_against_the_real_catalogue() -> None:
    routing = load_routing(EXAMPLE, Catalogue.current())
    assert set(routing.channels) == {"mail", "soc-teams", "soc-slack", "siem", "ticketing"}
    assert routing.channels["siem"].facility == 20
    assert routing.security_team == ("secops@contoso.com",)


def test_routes_add_channels_by_severity_category_and_check() -> None:
    routing = routing_of(routing_text("https://hooks.example", 25))

    def names(**kw: str | None) -> list[str]:
        args = {"kind": "alert", "category": None, "rule_id": None, "check_id": None,
                "severity": "low", **kw}
        return [c.name for c in routing.channels_for(**args)]  # type: ignore[arg-type]

    assert names(severity="critical", category="password-spray") == [
        "mail", "teams", "slack", "hook", "siem"]
    assert names(severity="medium", category="brute-force") == ["mail"]
    assert names(severity="low", category="brute-force") == []
    # A checks-only route never matches an alert, and matches the finding of that check.
    assert names(kind="alert", category="password-spray", severity="low") == []
    assert names(kind="finding", check_id="sign-in-enabled", severity="low") == ["mail", "hook"]
    assert names(kind="finding", check_id="imap-enabled", severity="low") == []


@pytest.mark.parametrize(("text", "line", "words"), [
    ("channels: {a: {type: email, url: 'mailto://h'}}\nroutes:\n  - channels: [b]\n",
     3, "channel 'b', which is not defined"),
    ("channels:\n  a: {type: pager, url: 'https://x'}\nroutes: []\n", 2, "type 'pager'"),
    ("channels:\n  a: {type: slack, url: 'mailto://x'}\nroutes: []\n", 2, "starts with https://"),
    ("channels:\n  a: {type: json, url: 'https://x'}\nroutes:\n  - match: {categories: [oops]}\n"
     "    channels: [a]\n", 4, "unknown category 'oops'"),
    ("channels:\n  a: {type: json, url: 'https://x'}\nroutes:\n  - match: {severity: [high]}\n"
     "    channels: [a]\n", 4, "unknown key 'severity'"),
    ("channels:\n  a: {type: json, url: 'https://x'}\n  a: {type: json, url: 'https://y'}\n"
     "routes: []\n", 3, "given twice"),
    ("channels:\n  a: {type: json, url: 'https://x'}\nroutes:\n  - channels: [a\n", 5,
     "not valid YAML"),
    ("security_team: [not-an-address]\nchannels:\n  a: {type: json, url: 'https://x'}\n"
     "routes: [{channels: [a]}]\n", 1, "not an email address"),
    ("channels:\n  a: {type: json, url: 'https://x', facility: local1}\nroutes: []\n", 2,
     "only syslog channels take facility"),
    ("routes: []\n", 1, "missing channels"),
    ("channels:\n  a: {type: json, url: 'https://x'}\nroutes:\n  - match: {severities: [hgh]}\n"
     "    channels: [a]\n", 4, "unknown severity 'hgh' (did you mean 'high'?) (known: critical"),
    ("channels:\n  a: {type: json, url: 'https://x'}\nroutes:\n  - match: {checks: [oops]}\n"
     "    channels: [a]\n", 4, "unknown check 'oops'"),
    ("channels:\n  a: {type: email, url: 'https://x'}\nroutes: []\n", 2,
     "channel a: an email URL starts with mailto:// or mailtos://"),
])
def test_errors_name_the_file_and_line(text: str, line: int, words: str) -> None:
    with pytest.raises(InputError) as caught:
        routing_of(text)
    said = str(caught.value)
    assert said.startswith("routing.yaml:")
    assert any(part.strip().startswith(f"routing.yaml:{line}: ") and words in part
               for part in said.splitlines()), said


def test_secrets_never_appear_in_reprs_or_errors() -> None:
    routing = routing_of(routing_text("https://hooks.example", 25))
    shown = repr(routing)
    for secret in ("HUNTER2PASS", "SECRETTEAMSTOKEN", "SECRETTOKEN1", "SECRETHOOKTOKEN"):
        assert secret not in shown
        assert secret not in routing.redactor(f"failed posting to {routing.channels}: {secret}")
    text = "channels:\n  a: {type: slack, url: 'mailto://u:TOPSECRET9@h'}\nroutes: []\n"
    with pytest.raises(InputError) as caught:
        routing_of(text)
    assert "TOPSECRET9" not in str(caught.value)


def test_redact_url_keeps_what_identifies_the_channel() -> None:
    assert redact_url("mailtos://me%40x.com:pw1234@smtp.x.com:587?from=a@x.com&pass=pw1234") == (
        "mailtos://me%40x.com:***@smtp.x.com:587?from=a@x.com&pass=***")
    assert redact_url("https://hooks.slack.com/services/T1/B2/abcdefgh") == (
        "https://hooks.slack.com/***")
    assert redact_url("udp://10.0.0.5:514") == "udp://10.0.0.5:514"


def test_catalogue_rejects_unknown_rule_ids() -> None:
    text = ("channels:\n  a: {type: json, url: 'https://x'}\nroutes:\n"
            "  - match: {rules: [spray-ip, nope]}\n    channels: [a]\n")
    with pytest.raises(InputError, match="unknown rule 'nope'"):
        routing_of(text)
    assert CATALOGUE.rules


def test_a_spray_goes_to_the_custodians_of_its_ownerless_targets() -> None:
    from mailwarden.notify import alert_notice, recipients_for
    from tests.notify.notify_peers import alert

    routing = routing_of(routing_text("https://hooks.example", 25))
    spray = alert("s", category="password-spray", rule_id="spray-ip", severity="medium",
                  target=None, targets=("bob@x.example", "hr@x.example", "it@x.example"),
                  facts={"ownerless_targets": ["hr@x.example", "it@x.example"]})
    recipients = recipients_for(alert_notice(spray), routing, {"hr@x.example": "jane@x.example"})
    assert recipients.to == ("jane@x.example",) and recipients.cc == ()
    assert recipients.note and "it@x.example" in recipients.note
    assert "bob@x.example" not in recipients.note


def test_every_problem_is_listed_at_once_with_its_line_and_a_suggestion() -> None:
    text = ("security_team: [secops]\n"
            "channels:\n"
            "  a: {type: slak, url: 'https://x'}\n"
            "  b: {type: syslog, url: 'udp://x', facility: lokal4}\n"
            "routes:\n"
            "  - match: {severitie: [high]}\n"
            "    channels: [a]\n"
            "  - match: {severities: [hihg], categories: [password-spary]}\n"
            "    channels: [c]\n")
    with pytest.raises(InputError) as caught:
        routing_of(text)
    lines = str(caught.value).splitlines()
    assert lines[0] == "routing.yaml: 7 problems, fix them all and run again:"
    assert [line.split(": ", 1)[0].strip() for line in lines[1:]] == [
        "routing.yaml:1", "routing.yaml:3", "routing.yaml:4", "routing.yaml:6",
        "routing.yaml:8", "routing.yaml:8", "routing.yaml:9"]
    said = "\n".join(lines)
    assert "type 'slak' (did you mean 'slack'?)" in said
    assert "facility 'lokal4' (did you mean 'local4'?)" in said
    assert "unknown key 'severitie' (did you mean 'severities'?)" in said
    assert "unknown severity 'hihg' (did you mean 'high'?)" in said
    assert "unknown category 'password-spary' (did you mean 'password-spray'?)" in said
    assert "route names channel 'c'" in said
    # A channel with problems is still defined: the route naming `a` is not an error too.
    assert "channel 'a'" not in said
