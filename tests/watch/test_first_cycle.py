"""A first `mailwarden watch --once` sets a baseline rather than flooding: one message per
custodian, one to the security team and one per team channel, with --history applied from
the first cycle and no local file path in any message; `--first-cycle quiet` sends nothing
and what it stored is not sent later."""

from __future__ import annotations

import email
import json
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from mailwarden.synth import generate, write_synthetic
from tests.support.peers import html_part, http_server, smtp_server

SECURITY = "secops@contoso.example"
TIMEOUT = 300


def routing_file(path: Path, smtp_port: int, base: str) -> Path:
    path.write_text(f"""\
security_team: [{SECURITY}]
channels:
  mail:
    type: email
    url: mailto://alerts:MAILPASS@127.0.0.1:{smtp_port}?from=alerts@contoso.example&mode=insecure
  teams:
    type: teams
    url: {base}/teams/webhookb2/TEAMSTOKEN
  hook:
    type: json
    url: {base}/hook
routes:
  - match: {{}}
    channels: [mail, teams, hook]
""", encoding="utf-8")
    return path


def watch(tenant: Path, state: Path, routing: Path, *extra: str) -> dict[str, Any]:
    log = state.parent / f"{state.name}.log"
    result = subprocess.run(
        [sys.executable, "-m", "mailwarden", "watch", "--once", "--from-dir", str(tenant),
         "--state-dir", str(state), "--routing", str(routing), "--db",
         str(state.parent / f"{state.name}.db"), "--log-file", str(log), *extra],
        capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(log.read_text(encoding="utf-8").splitlines()[-1]))


def synth(out: Path) -> Path:
    write_synthetic(generate("small", seed=0), out)  # as `mailwarden synth --size small`
    return out


def test_a_first_cycle_sends_one_baseline_per_custodian_and_channel(tmp_path: Path) -> None:
    tenant = synth(tmp_path / "tenant")
    state = tmp_path / "state"
    warnings.filterwarnings("ignore", message=".*login_data.*")  # the local SMTP server's
    with smtp_server(b"MAILPASS") as (mail, smtp_port), http_server() as (web, base):
        routing = routing_file(tmp_path / "routing.yaml", smtp_port, base)
        cycle = watch(tenant, state, routing, "--history", "2d")
        assert cycle["first_cycle"] == "summary" and cycle["deliveries_failed"] == 0
        # Everything was found and stored, not sent one by one.
        assert cycle["incidents_open"] > 1 and cycle["failing_findings"] > 1
        # --history from the first cycle: the window keeps the newest day and two before.
        assert cycle["window_records"] < cycle["records_new"]
        assert cycle["window_days_dropped"] > 0

        people = Counter(to for m in mail.messages for to in m.rcpt_tos)
        assert people[SECURITY] == 1
        assert len(people) > 2 and max(people.values()) == 1
        hooks = web.bodies("/hook")
        assert len(hooks) == 1 and len(web.bodies("/teams/webhookb2/TEAMSTOKEN")) == 1
        (hook,) = hooks
        assert hook["kind"] == "digest"
        keys = [item["key"] for item in hook["digest"]["items"]]
        assert sum(k.startswith("incident:") for k in keys) == cycle["incidents_open"]
        assert any(k.startswith("finding:") for k in keys)  # newly failing: the baseline

        bodies = [html_part(email.message_from_bytes(m.content)) for m in mail.messages]
        bodies += [json.dumps(b) for b in web.bodies("/hook")]
        bodies += [json.dumps(b) for b in web.bodies("/teams/webhookb2/TEAMSTOKEN")]
        for body in bodies:
            for path in (tmp_path, state, tenant, state / "tenant"):
                assert str(path) not in body
        custodian_mail = [b for m, b in zip(mail.messages, bodies, strict=False)
                          if SECURITY not in m.rcpt_tos]
        assert custodian_mail and all("Why you" in b for b in custodian_mail)

        # The next cycle, nothing new: nothing sent again.
        sent = len(mail.messages)
        again = watch(tenant, state, routing, "--history", "2d")
        assert again["first_cycle"] is None and again["deliveries_sent"] == 0
        assert len(mail.messages) == sent and len(web.bodies("/hook")) == 1


def test_a_quiet_first_cycle_sends_nothing_now_or_later(tmp_path: Path) -> None:
    tenant = synth(tmp_path / "tenant")
    state = tmp_path / "state"
    with http_server() as (web, base):
        routing = routing_file(tmp_path / "routing.yaml", 9, base)
        first = watch(tenant, state, routing, "--first-cycle", "quiet")
        assert first["first_cycle"] == "quiet" and first["incidents_open"] > 0
        assert (first["deliveries_stored"], first["deliveries_sent"]) == (0, 0)
        second = watch(tenant, state, routing)
        assert second["deliveries_sent"] == 0
        assert web.bodies("/hook") == []


def test_an_unknown_first_cycle_is_refused(tmp_path: Path) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text("channels: {}\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "mailwarden", "watch", "--once", "--routing", str(routing),
         "--state-dir", str(tmp_path / "state"), "--first-cycle", "loud"],
        capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert result.returncode == 2
    assert "--first-cycle loud: give summary, all or quiet" in result.stderr
