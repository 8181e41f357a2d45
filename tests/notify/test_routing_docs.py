"""docs/routing.md describes the routing file as the code reads it, and a bad routing file
is reported whole, through `notify` and `watch` as processes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mailwarden.detect import CATEGORIES
from mailwarden.model.findings import Severity
from mailwarden.notify import Catalogue
from mailwarden.notify.routing import _FACILITIES, ChannelType, parse_routing

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "routing.md").read_text(encoding="utf-8")


def test_every_example_in_the_doc_is_a_valid_routing_file() -> None:
    examples = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.S)
    assert len(examples) >= 2
    for example in examples:
        routing = parse_routing(example, "docs/routing.md", Catalogue.current())
        assert routing.routes


def test_the_doc_names_every_channel_type_severity_category_and_facility() -> None:
    names = [*(t.value for t in ChannelType), *(s.value for s in Severity), *CATEGORIES,
             *_FACILITIES.keys() - {f"local{n}" for n in range(1, 7)}]
    missing = [name for name in names if f"`{name}`" not in DOC]
    assert not missing, f"docs/routing.md does not name {missing}"


BAD = """\
security_team: [secops]
channels:
  mail: {type: email, url: 'mailtos://u:SECRETPW1@smtp.contoso.com:587?from=a@contoso.com'}
  chat: {type: slak, url: 'https://hooks.slack.com/services/T/B/SECRETTOKEN'}
routes:
  - match: {severitie: [high]}
    channels: [mail]
  - match: {severities: [hihg]}
    channels: [mial]
"""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=60, check=False,
                          env={**os.environ, "COLUMNS": "200"})


@pytest.mark.parametrize("command", ["notify", "watch"])
def test_a_bad_routing_file_is_reported_whole(tmp_path: Path, command: str) -> None:
    routing = tmp_path / "bad.yaml"
    routing.write_text(BAD, encoding="utf-8")
    if command == "notify":
        alerts = tmp_path / "alerts.json"
        alerts.write_text('{"schema": "mailwarden.alerts/1", "alerts": []}', encoding="utf-8")
        done = _run("notify", "--alerts", str(alerts), "--routing", str(routing),
                    "--state", str(tmp_path / "state.json"))
    else:
        done = _run("watch", "--routing", str(routing), "--from-dir", str(tmp_path),
                    "--once", "--state-dir", str(tmp_path / "state"),
                    "--db", str(tmp_path / "history.db"))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == f"error: {routing}: 5 problems, fix them all and run again:"
    assert [line.split(": ", 1)[0].strip() for line in lines[1:]] == [
        f"{routing}:{n}" for n in (1, 4, 6, 8, 9)]
    said = done.stderr
    for hint in ("'slak' (did you mean 'slack'?)", "'severitie' (did you mean 'severities'?)",
                 "'hihg' (did you mean 'high'?)", "'mial' (did you mean 'mail'?)"):
        assert hint in said
    assert "SECRETPW1" not in said and "SECRETTOKEN" not in said
    assert not (tmp_path / "state").exists() and not (tmp_path / "history.db").exists()
