"""`mailwarden watch` with a console URL configured: the custodian's email holds a
"was this you?" link that the console (sharing the link key and the history database)
opens on that incident's page, and no other message holds it. (Without a console URL no
link is made: tests/notify/test_answer_links.py.)"""

from __future__ import annotations

import email
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mailwarden.console.answer_links import console_base_url
from mailwarden.console.context import Console
from mailwarden.console.roles import Principal
from mailwarden.errors import ConfigError
from tests.console.support import LINK_KEY, ConsoleClient
from tests.support.peers import html_part, smtp_server
from tests.watch.watch_helpers import SPRAY_CUT, write_tenant

ClientOf = Callable[[Principal | None], ConsoleClient]
CONSOLE_URL = "https://console.contoso.example"
ROUTING = """\
security_team: [secops@contoso.example]
channels:
  mail:
    type: email
    url: mailto://alerts:MAILPASS@127.0.0.1:{port}?from=alerts@contoso.example&mode=insecure
routes:
  - match: {{categories: [external-forwarding-set]}}
    channels: [mail]
"""


def watch(tmp_path: Path, name: str, port: int, db: Path, **env: str) -> None:
    (tmp_path / "routing.yaml").write_text(ROUTING.format(port=port), encoding="utf-8")
    source = tmp_path / "source"
    if not source.exists():
        write_tenant(source, until=SPRAY_CUT)
    environ = {k: v for k, v in os.environ.items()
               if k not in ("MAILWARDEN_CONSOLE_URL", "MAILWARDEN_CONSOLE_SECRET")}
    done = subprocess.run(
        [sys.executable, "-m", "mailwarden", "watch", "--once", "--from-dir", str(source),
         "--state-dir", str(tmp_path / name), "--routing", str(tmp_path / "routing.yaml"),
         "--db", str(db), "--first-cycle", "all", "--log-file", str(tmp_path / "watch.log")],
        env={**environ, **env}, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_the_custodians_email_links_to_their_answer_page(
        tmp_path: Path, console: Console, client_of: ClientOf) -> None:
    db = tmp_path / "history.db"  # the console fixture's database
    with smtp_server(b"MAILPASS") as (inbox, port):
        watch(tmp_path, "linked", port, db, MAILWARDEN_CONSOLE_URL=CONSOLE_URL,
              MAILWARDEN_CONSOLE_SECRET=LINK_KEY)
        messages = list(inbox.messages)
    (custodian,) = [m for m in messages if "secops@contoso.example" not in m.rcpt_tos]
    html = html_part(email.message_from_bytes(custodian.content))
    found = re.search(re.escape(CONSOLE_URL) + r'/r/([A-Za-z0-9_.\-]+)"', html)
    assert found is not None, html
    for other in messages:
        if other is not custodian:
            assert found.group(1).encode() not in other.content
    client = client_of(None)
    landing = client.get(f"/r/{found.group(1)}")
    assert landing.status_code == 200
    (target,) = re.findall(r'url=(/custodian/incident/inc-[0-9a-f]+)"', landing.text)
    page = client.get(target)
    assert page.status_code == 200 and "Was this you?" in page.text
    assert found.group(1) not in (tmp_path / "watch.log").read_text(encoding="utf-8")


def test_a_console_url_must_be_http() -> None:
    assert console_base_url(" https://c.example/ ") == "https://c.example"
    for wrong in ("ftp://c.example", "javascript:alert(1)", "https://", "c.example"):
        with pytest.raises(ConfigError):
            console_base_url(wrong)
