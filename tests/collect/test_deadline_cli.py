"""`mailwarden collect` as a process never waits without end: an endpoint that accepts
connections and never answers fails within the timeouts, and a collection that outlasts
`--deadline` keeps what it read and exits 4 (partial result)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from mailwarden.emulator import DEFAULT_CLIENT_SECRET
from mailwarden.tenant.recorded import ERRORS_FILE
from tests.support.served_emulator import mailwarden, served_emulator

#: Far above the 1 s timeouts the test sets, far below "forever".
BOUND = 60.0


@contextmanager
def silent_endpoint() -> Iterator[str]:
    """An HTTPS URL on loopback whose server accepts connections and never answers (not
    even the TLS handshake); every connection is closed when the block ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        for connection in accepted:
            connection.close()
        listener.close()


def _environment() -> dict[str, str]:
    """The test's environment with the client secret and without any proxy: nothing may
    leave 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["MAILWARDEN_CLIENT_SECRET"] = DEFAULT_CLIENT_SECRET
    env["NO_PROXY"] = "127.0.0.1"
    return env


def test_collect_against_an_endpoint_that_never_answers_fails_within_its_timeouts(
    tmp_path: Path,
) -> None:
    config = tmp_path / "mailwarden.toml"
    config.write_text("connect_timeout = 1\nread_timeout = 1\n", encoding="utf-8")
    with silent_endpoint() as url:
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "mailwarden", "collect", "--out", str(tmp_path / "t"),
                 "--tenant", "contoso.onmicrosoft.com", "--client-id", "app",
                 "--login-url", url, "--graph-url", url, "--exo-url", url,
                 "--config", str(config), "--quiet"],
                capture_output=True, text=True, timeout=BOUND, check=False,
                env=_environment(),
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"collect still waiting after {BOUND:g} s") from exc
        elapsed = time.monotonic() - started
    assert elapsed < BOUND
    assert done.returncode == 3, done.stderr  # the sign-in could not be done
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "timed out" in lines[0], lines[0]
    assert "sign-in service" in lines[0]
    assert "Traceback" not in done.stderr


def test_collect_and_scan_past_their_deadline_keep_what_they_read_and_exit_4(
    tmp_path: Path,
) -> None:
    out = tmp_path / "tenant"
    # Every Exchange answer takes two minutes; Graph answers at once.
    # collect and scan run side by side: each waits out its own deadline.
    with served_emulator(tmp_path, options=["--latency-exo", "120000"]) as served, \
            ThreadPoolExecutor(max_workers=1) as beside:
        scanning = beside.submit(mailwarden, "scan", "--out", str(tmp_path / "scan"),
                                 *served.connection(), "--deadline", "15s", "--quiet",
                                 "--no-logs")
        started = time.monotonic()
        done = mailwarden("collect", "--out", str(out), *served.connection(),
                          "--deadline", "15s", "--quiet")
        elapsed = time.monotonic() - started
        scanned = scanning.result()
    # scan --tenant assesses what was read (checks of unread sources say error), exits 4.
    assert scanned.returncode == 4, scanned.stdout + scanned.stderr
    assert (tmp_path / "scan" / "findings.json").is_file()
    scan_errors = json.loads((tmp_path / "scan" / "tenant" / ERRORS_FILE).read_text("utf-8"))
    assert scan_errors["exo/Get-Mailbox"] == {"error": "deadline reached"}
    assert "deadline" in scanned.stderr and "Traceback" not in scanned.stderr
    assert done.returncode == 4, done.stdout + done.stderr
    assert elapsed < BOUND
    assert "deadline" in done.stderr and "15s" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    # The Graph sources completed and are written ...
    for source in ("tenant", "graph/users", "graph/groups", "graph/groupMembers"):
        assert (out / f"{source}.json").is_file(), source
    # ... the Exchange ones are recorded as failed at the deadline, not left out.
    errors = json.loads((out / ERRORS_FILE).read_text(encoding="utf-8"))
    for source in ("exo/Get-Mailbox", "exo/Get-User", "exo/Get-MailboxPermission",
                   "exo/Get-InboxRule", "exo/Get-OrganizationConfig"):
        assert source in errors, source
        assert "deadline reached" in json.dumps(errors[source]), errors[source]
        assert not (out / f"{source}.json").exists(), source
    assert "graph/users" not in errors
    assert (out / ERRORS_FILE).stat().st_mode & 0o777 == 0o600


def test_a_deadline_that_is_not_a_duration_is_refused(tmp_path: Path) -> None:
    done = mailwarden("collect", "--out", str(tmp_path / "t"), "--tenant", "contoso.com",
                      "--client-id", "app", "--deadline", "soon")
    assert done.returncode == 2
    assert "--deadline 'soon' is not a duration" in done.stderr


def test_collect_against_graph_and_exchange_that_never_answer_fails_each_source_in_time(
    tmp_path: Path,
) -> None:
    config = tmp_path / "mailwarden.toml"
    config.write_text("connect_timeout = 1\nread_timeout = 1\n", encoding="utf-8")
    out = tmp_path / "tenant"
    with served_emulator(tmp_path) as served, silent_endpoint() as url:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "mailwarden", "collect", "--out", str(out),
             "--tenant", served.tenant_id, "--client-id", "app",
             "--login-url", served.base_url, "--graph-url", url, "--exo-url", url,
             "--ca-bundle", str(served.ca_file), "--config", str(config), "--quiet"],
            capture_output=True, text=True, timeout=BOUND * 2, check=False,
            env=_environment(),
        )
        elapsed = time.monotonic() - started
    assert elapsed < BOUND * 2
    assert "Traceback" not in done.stderr, done.stderr
    errors = json.loads((out / ERRORS_FILE).read_text(encoding="utf-8"))
    for source in ("tenant", "graph/users", "exo/Get-Mailbox"):
        assert "timed out" in json.dumps(errors[source]), errors[source]
