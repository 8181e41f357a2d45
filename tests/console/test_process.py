"""`mailwarden console` and `mailwarden console invite` as processes, with nothing
injected: the sign-in URL is printed once and its token is found nowhere else (not in the
log, not in the audit table), invites work across processes, local mode refuses a
non-loopback address, and Ctrl-C or SIGTERM stops the console cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from mailwarden.console.config import AuthMode
from mailwarden.console.serve import check_host, redact
from tests.console.browser import Served


def _mailwarden(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, encoding="utf-8", timeout=120, check=False,
                          env={**os.environ, "COLUMNS": "400", "NO_COLOR": "1"})


def _everything_stored(db_url: str) -> str:
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            tables = [row[0] for row in connection.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'table'"))]
            return repr([list(connection.execute(text(f'SELECT * FROM "{t}"')))
                         for t in tables])
    finally:
        engine.dispose()


def test_the_token_is_printed_once_and_logged_nowhere(served: Served, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'history.db'}"
    running = served(db_url)
    token = running.sign_in_url.split("token=", 1)[1]
    base = running.base_url
    assert base.startswith("http://127.0.0.1:")
    with httpx.Client(base_url=base) as admin:
        assert admin.get(running.sign_in_url).status_code == 303
        assert admin.get("/").status_code == 200
        assert admin.get("/audit").status_code == 200
    with httpx.Client(base_url=base) as stranger:
        assert stranger.get("/login", params={"token": "guess"}).status_code == 403
        assert stranger.get(f"/r/{token}").status_code == 404
        assert stranger.get("/").status_code == 303

    invited = _mailwarden("console", "invite", "Bea Approver", "--role", "approver",
                          "--db", db_url, "--public-url", base)
    assert invited.returncode == 0, invited.stderr
    link = invited.stdout.strip()
    assert link.startswith(f"{base}/invite/")
    invite_token = link.rsplit("/", 1)[1]
    with httpx.Client(base_url=base) as bea:
        assert bea.get(link).status_code == 200
        assert bea.post(link).status_code == 303
        home = bea.get("/")
        assert home.status_code == 200 and "Bea Approver" in home.text
        assert bea.get("/audit").status_code == 403  # an approver, not an admin
    with httpx.Client(base_url=base) as replay:
        assert replay.post(link).status_code == 404

    code, stdout, stderr = running.stop(signal.SIGINT)  # Ctrl-C
    assert code == 0, stderr
    assert "console stopped" in stderr
    assert stdout.count(token) == 1 and stdout.strip().splitlines()[0] == running.sign_in_url
    assert token not in stderr and invite_token not in stdout + stderr
    assert "GET /login?[redacted]" in stderr and "/invite/[redacted]" in stderr
    assert "GET /r/[redacted]" in stderr
    stored = _everything_stored(db_url)
    assert token not in stored and invite_token not in stored
    assert "signin.local" in stored and "invite.accept" in stored


def test_sigterm_stops_the_console(served: Served, tmp_path: Path) -> None:
    running = served(f"sqlite:///{tmp_path / 'history.db'}")
    code, _, stderr = running.stop(signal.SIGTERM)
    assert code == 0 and "console stopped" in stderr


def test_local_mode_listens_on_loopback_only(tmp_path: Path) -> None:
    result = _mailwarden("console", "--db", str(tmp_path / "h.db"), "--host", "0.0.0.0")
    assert result.returncode == 2
    assert "loopback" in result.stderr and "--auth entra" in " ".join(result.stderr.split())
    assert not (tmp_path / "h.db").exists()
    bad = _mailwarden("console", "invite", "x", "--role", "owner", "--db", str(tmp_path / "h"))
    assert bad.returncode == 2 and "--role" in bad.stderr
    check_host("::1", AuthMode.LOCAL)
    check_host("localhost", AuthMode.LOCAL)
    check_host("0.0.0.0", AuthMode.ENTRA)


def test_redaction_removes_query_strings_and_link_tokens() -> None:
    line = ('127.0.0.1:5 - "GET /login?token=abc&next=/ HTTP/1.1" 303; '
            '"GET /r/eyJsIjoi.x.y HTTP/1.1" 200; "POST /invite/Zm9v HTTP/1.1" 303; '
            '"GET /auth/callback?code=c0de&state=s HTTP/1.1" 303; "GET /audit HTTP/1.1"')
    shown = redact(line)
    for secret in ("abc", "eyJsIjoi", "Zm9v", "c0de"):
        assert secret not in shown
    assert '"GET /audit HTTP/1.1"' in shown and "/r/[redacted] HTTP" in shown
