"""`mailwarden watch --tenant ...` as a process with nothing injected, against the emulator
served on loopback: one cycle with --once; two cycles in one process, which reuse the
watcher's one session (event loop, token source, HTTP client) across cycles; an attack
logged between two cycles of a running watcher (`POST /_emulator/logs/signIns`), which the
next cycle reads once and alerts on, and `mailwarden history` then lists every cycle's run;
and a watcher killed with SIGKILL while it sends that alert, then restarted."""

from __future__ import annotations

import functools
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailwarden.emulator import DEFAULT_CLIENT_SECRET
from mailwarden.statelock import LOCK_FILE
from mailwarden.synth import generate
from mailwarden.watch.cycle import OUTBOX_FILE
from tests.support.peers import HttpInbox, http_server, loopback_http
from tests.support.served_emulator import ServedEmulator, mailwarden, served_emulator

pytestmark = pytest.mark.slow

TIMEOUT = 120.0  # a backstop: one cycle over the small tenant takes seconds


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedEmulator]:
    with served_emulator(tmp_path_factory.mktemp("emulator")) as running:
        yield running


def write_routing(path: Path, base: str) -> Path:
    path.write_text(f"""\
security_team: [secops@contoso.example]
channels:
  hook:
    type: json
    url: {base}/hook
routes:
  - match: {{}}
    channels: [hook]
""", encoding="utf-8")
    return path


@pytest.fixture
def hook(tmp_path: Path) -> Iterator[tuple[HttpInbox, Path]]:
    """Every alert and failing finding goes to a JSON webhook on 127.0.0.1: what it
    received, and the routing file."""
    with http_server() as (inbox, base):
        yield inbox, write_routing(tmp_path / "routing.yaml", base)


@pytest.fixture
def routing(hook: tuple[HttpInbox, Path]) -> Path:
    return hook[1]


def watch(served: ServedEmulator, routing: Path, state: Path, *options: str) -> list[Any]:
    """Run the watcher to its end; it must exit 0. The JSON lines it wrote, one per cycle."""
    log = state.parent / "watch.log"
    done = mailwarden("watch", "--routing", str(routing), "--state-dir", str(state),
                      "--log-file", str(log), *options, *served.connection("watch-test"))
    assert done.returncode == 0, done.stderr
    assert "emulator-secret" not in done.stderr + done.stdout
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def full_cycle(line: dict[str, Any], served: ServedEmulator) -> bool:
    """A cycle that read the logs, collected the posture, ran the checks and stored the run."""
    return (line["event"] == "watch-cycle" and line["ok"] is True
            and line["source"] == f"tenant {served.tenant_id}"
            and line["posture_refreshed"] is True and line["notes"] == []
            and line["failing_findings"] > 0 and line["deliveries_failed"] == 0
            and isinstance(line["run_id"], int))


def test_watch_once_against_the_served_tenant_does_a_full_cycle(
    served: ServedEmulator, routing: Path, tmp_path: Path
) -> None:
    (line,) = watch(served, routing, tmp_path / "state", "--once")
    assert full_cycle(line, served), line
    assert (tmp_path / "state" / "tenant" / "exo" / "Get-Mailbox.json").exists()


def test_one_watcher_runs_two_cycles_through_one_session(
    served: ServedEmulator, routing: Path, tmp_path: Path
) -> None:
    # The posture is due again by the second cycle, so both reach Graph and Exchange.
    lines = watch(served, routing, tmp_path / "state", "--cycles", "2", "--interval", "1s",
                  "--posture-every", "1s")
    assert len(lines) == 2
    assert all(full_cycle(line, served) for line in lines), lines
    first, second = lines
    assert second["run_id"] == first["run_id"] + 1
    assert second["started_at"] > first["finished_at"]


@functools.cache
def shared_mailbox() -> tuple[str, str]:
    """A shared (ownerless) mailbox of the served tenant: its address and account id."""
    mailboxes = generate("small", seed=0).recorded.data["exo/Get-Mailbox"]
    box = next(m for m in mailboxes if m.get("RecipientTypeDetails") == "SharedMailbox")
    return str(box["UserPrincipalName"]), str(box["ExternalDirectoryObjectId"])


def log_attack(served: ServedEmulator) -> datetime:
    """Someone signs in to the shared mailbox's account over IMAP, now: the emulator logs
    it (its time and id are the emulator's). Returns when it was logged."""
    upn, user_id = shared_mailbox()
    answer = httpx.post(f"{served.base_url}/_emulator/logs/signIns", timeout=30,
                        verify=ssl.create_default_context(cafile=served.ca_file), json=[{
                            "userPrincipalName": upn, "userId": user_id,
                            "ipAddress": "203.0.113.9", "clientAppUsed": "IMAP4",
                            "appDisplayName": "Office 365 Exchange Online",
                            "status": {"errorCode": 0}}])
    assert answer.json() == {"added": 1}, answer.text
    return datetime.now(UTC)


class Watcher:
    """`mailwarden watch --tenant ...` running as a process (until stopped, or --cycles N)."""

    def __init__(self, served: ServedEmulator, routing: Path, state: Path,
                 *options: str) -> None:
        self.log = state.parent / "watch.log"
        self.stderr = state.parent / "watch.stderr"
        env = {**os.environ, "MAILWARDEN_CLIENT_SECRET": DEFAULT_CLIENT_SECRET}
        with self.stderr.open("ab") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mailwarden", "watch", "--routing", str(routing),
                 "--state-dir", str(state), "--log-file", str(self.log), *options,
                 *served.connection("watch-test")],
                stdout=subprocess.DEVNULL, stderr=stderr, env=env)

    def lines(self) -> list[dict[str, Any]]:
        """The cycle lines written so far (whole lines only: one may be being written)."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in
                self.log.read_text(encoding="utf-8").split("\n")[:-1]]

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        """Wait until the log has `count` cycle lines; they must all be successful."""
        deadline = time.monotonic() + TIMEOUT
        while len(lines := self.lines()) < count:
            assert self.process.poll() is None, self.stderr.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "the watcher wrote no cycle line in time"
            time.sleep(0.05)
        assert all(line["ok"] for line in lines), lines
        return lines

    def finish(self) -> list[dict[str, Any]]:
        """Wait for the watcher to end; it must exit 0. Every line of the log."""
        code = self.process.wait(TIMEOUT)
        assert code == 0, self.stderr.read_text(encoding="utf-8")
        return self.wait_for(0)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(TIMEOUT)


def alert_bodies(inbox: HttpInbox) -> list[dict[str, Any]]:
    return [body for body in inbox.bodies("/hook") if body["kind"] == "alert"]


def test_an_attack_logged_between_cycles_alerts_in_the_next_cycle_only(
    served: ServedEmulator, hook: tuple[HttpInbox, Path], tmp_path: Path
) -> None:
    inbox, routing = hook
    state = tmp_path / "state"
    # The first cycle collects the posture (seconds); the interval leaves time after it.
    watcher = Watcher(served, routing, state, "--cycles", "3", "--interval", "8s")
    try:
        watcher.wait_for(1)
        assert alert_bodies(inbox) == []  # the served tenant's own logs are weeks old
        logged = log_attack(served)
        lines = watcher.finish()
    finally:
        watcher.kill()
    assert len(lines) == 3, lines
    first, second, third = lines
    assert full_cycle(first, served), first
    assert not second["posture_refreshed"] and not third["posture_refreshed"]
    assert datetime.fromisoformat(second["started_at"]) > logged  # logged between 1 and 2
    assert [line["records_new"] for line in lines] == [0, 1, 0]
    assert second["records_written"] == 1 and third["records_written"] == 0

    alerts = alert_bodies(inbox)
    assert second["deliveries_sent"] == len(alerts) and third["deliveries_sent"] == 0
    upn, _ = shared_mailbox()
    signed_in = [a["alert"] for a in alerts if a["alert"]["category"] == "ownerless-sign-in"]
    assert [(a["target"], a["source_ips"]) for a in signed_in] == [(upn, ["203.0.113.9"])]
    keys = [a["notification"]["key"] for a in alerts]
    assert len(keys) == len(set(keys))

    # `history` (the default database, as the watcher used no --db) lists the runs the
    # cycles stored: the third found nothing changed and names the second's run instead
    # of storing a copy of it.
    assert [line["run_stored"] for line in lines] == [True, True, False]
    assert third["run_id"] == second["run_id"] == first["run_id"] + 1
    listed = mailwarden("history", "--json")
    assert listed.returncode == 0, listed.stderr
    runs = json.loads(listed.stdout)
    assert [r["id"] for r in runs] == [first["run_id"], second["run_id"]]
    assert {r["tenant_id"] for r in runs} == {served.tenant_id}
    assert runs[1]["alerts"] == second["alerts"] == third["alerts"]
    assert not (state / "history.db").exists()


class HeldHook:
    """A JSON webhook on 127.0.0.1 that keeps (notice key, Idempotency-Key) of each post it
    answers; while `hold_next` is set it answers none, holds the first one open and sets
    `holding`, keeping its Idempotency-Key in `held`."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str | None]] = []
        self.hold_next = False
        self.held: str | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    def taken(self) -> list[tuple[str, str | None]]:
        with self.lock:
            received, self.received = self.received, []
            return received


@contextmanager
def held_hook() -> Iterator[tuple[HeldHook, str]]:
    hook = HeldHook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            key = self.headers.get("Idempotency-Key")
            with hook.lock:
                hold, hook.hold_next = hook.hold_next, False
                if hold:
                    hook.held = key
                else:
                    hook.received.append((str(body["notification"]["key"]), key))
            if hold:
                hook.holding.set()
                hook.release.wait(TIMEOUT)  # the sender dies waiting for the answer
                self.close_connection = True
                return
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    with loopback_http(Handler, on_stop=hook.release.set) as base:
        yield hook, base


def test_a_watcher_killed_while_sending_an_alert_resumes_and_sends_it_once(
    tmp_path: Path
) -> None:
    state = tmp_path / "state"
    # An emulator of its own: the attack must be news to it, whichever test ran first.
    with served_emulator(tmp_path / "emulator") as served, held_hook() as (hook, base):
        routing = write_routing(tmp_path / "routing.yaml", base)
        killed = Watcher(served, routing, state, "--interval", "2s")  # runs until stopped
        try:
            killed.wait_for(1)
            assert hook.taken()  # the first cycle's newly failing findings
            hook.hold_next = True
            log_attack(served)
            assert hook.holding.wait(TIMEOUT), "the watcher sent no alert"
            os.kill(killed.process.pid, signal.SIGKILL)
            assert killed.process.wait(TIMEOUT) == -signal.SIGKILL
        finally:
            killed.kill()
            hook.release.set()
        assert hook.taken() == []
        assert (state / LOCK_FILE).exists()  # the lock file stays; the kill released the lock
        before = killed.lines()
        deliveries = json.loads((state / OUTBOX_FILE).read_text(encoding="utf-8"))["deliveries"]
        pending = sorted(d["key"] for d in deliveries.values() if d["status"] == "stored")
        assert pending and all(key.startswith("incident:") for key in pending)

        # The restart is not refused (the kill released the state folder), reads the attack
        # again from the checkpoint the killed cycle never moved, keeps it once, and sends
        # what the killed cycle stored, once, under the same Idempotency-Key.
        restarted = Watcher(served, routing, state, "--cycles", "2", "--interval", "1s")
        try:
            resumed, quiet = restarted.finish()[len(before):]
        finally:
            restarted.kill()
        assert (resumed["records_new"], resumed["records_written"]) == (1, 0)
        assert resumed["deliveries_sent"] == len(pending) and resumed["notices"].get("new") is None
        assert (quiet["records_new"], quiet["deliveries_sent"]) == (0, 0)
        received = hook.taken()
        assert sorted(key for key, _ in received) == pending
        assert hook.held in {idempotency for _, idempotency in received}
        window = [line for path in sorted((state / "tenant" / "logs").glob("*.jsonl"))
                  for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        assert len(window) == 1
