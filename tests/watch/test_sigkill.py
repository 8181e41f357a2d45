"""`mailwarden watch --once` killed for real (SIGKILL) between storing its notices and
sending them, then restarted: every notice reaches the JSON webhook on 127.0.0.1 exactly
once, the same ones a clean run sends, and every log record is kept exactly once.

The receiver holds the first delivery of the killed run open and tells the test, which
kills the process while it waits for the answer: the outbox then holds every notice as
stored and none as sent, and the checkpoint has not moved. test_cycle.py kills the cycle
in-process at each phase; this shows the files on disk survive an abrupt process death."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from mailwarden.synth import generate, write_synthetic
from mailwarden.watch import DIRECTORY_CHECKPOINT
from mailwarden.watch.cycle import OUTBOX_FILE
from tests.support.peers import loopback_http

TIMEOUT = 120.0  # one cycle over the small tenant takes seconds; this is only a backstop
LOG_KINDS = ("signIns", "directoryAudits", "ual")


@dataclass
class Receiver:
    """Counts the notice keys posted to it; while `hold_next` is set it answers none, holds
    the first request open and sets `holding` (the next run's process is killed then)."""

    keys: list[str] = field(default_factory=list)
    #: The keys of the notices told of: a digest's items, or the notice posted alone.
    told: list[str] = field(default_factory=list)
    hold_next: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def taken(self) -> list[str]:
        """The keys received since the last call."""
        with self.lock:
            keys, self.keys = self.keys, []
            return keys

    def items(self) -> list[str]:
        """The notice keys told of since the last call (digests opened)."""
        with self.lock:
            told, self.told = self.told, []
            return told

    def receive(self, body: Any) -> bool:
        """Count the body; False when the request is to be held instead."""
        with self.lock:
            if self.hold_next:
                self.hold_next = False
                self.holding.set()
                return False
            self.keys.append(str(body["notification"]["key"]))
            digest = body.get("digest")
            self.told += ([str(i["key"]) for i in digest["items"]] if digest
                          else [self.keys[-1]])
            return True


@contextmanager
def receiver() -> Iterator[tuple[Receiver, str]]:
    inbox = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if not inbox.receive(body):
                # Held with no answer: the sender must die waiting, its delivery unmarked.
                inbox.release.wait(TIMEOUT)
                self.close_connection = True
                return
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    with loopback_http(Handler, on_stop=inbox.release.set) as base:
        yield inbox, base


@dataclass(frozen=True, slots=True, kw_only=True)
class Watcher:
    """The command line of `watch --once` over one source and state directory."""

    source: Path
    state: Path
    routing: Path

    @property
    def log(self) -> Path:
        return self.state.parent / f"{self.state.name}.log"

    def args(self) -> list[str]:
        # History long enough that no day of the month of logs is ever dropped: the
        # window must then hold every source record.
        return [sys.executable, "-m", "mailwarden", "watch", "--once",
                "--from-dir", str(self.source), "--state-dir", str(self.state),
                "--routing", str(self.routing), "--history", "90d",
                "--log-file", str(self.log)]

    def start(self) -> subprocess.Popen[bytes]:
        stderr = (self.state.parent / f"{self.state.name}.stderr").open("ab")
        with stderr:
            return subprocess.Popen(self.args(), stdout=subprocess.DEVNULL, stderr=stderr)

    def run(self) -> dict[str, Any]:
        """Run one cycle to completion; its log line."""
        process = self.start()
        try:
            code = process.wait(TIMEOUT)
        finally:
            stop(process)
        stderr = (self.state.parent / f"{self.state.name}.stderr").read_text(encoding="utf-8")
        assert code == 0, stderr
        return dict(json.loads(self.log.read_text(encoding="utf-8").splitlines()[-1]))


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(TIMEOUT)


def write_routing(path: Path, base: str) -> Path:
    path.write_text(f"""\
security_team: [secops@contoso.example]
channels:
  hook:
    type: json
    url: {base}/hook?token=HOOKTOKEN
routes:
  - match: {{}}
    channels: [hook]
""", encoding="utf-8")
    return path


def source_record_ids(source: Path) -> list[str]:
    """Every record id in the source's logs, read here without the watcher's code."""
    ids = []
    for kind in LOG_KINDS:
        for line in (source / "logs" / f"{kind}.json").read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                ids.append(str(row.get("id") or row["Id"]))
    return ids


def window_ids(state: Path) -> list[str]:
    return [json.loads(line)["_watch_id"]
            for path in sorted((state / "tenant" / "logs").glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def outbox_of(state: Path) -> dict[str, Any]:
    return dict(json.loads((state / OUTBOX_FILE).read_text(encoding="utf-8")))


def what(key: str) -> str:
    """A notice key without the time a finding's notice names (when the run that saw it
    newly fail started), which differs between two runs by design; alert keys are whole."""
    return ":".join(key.split(":", 3)[:3]) if key.startswith("finding:") else key


def synth(out: Path) -> Path:
    """A synthetic tenant whose logs all fall inside the watcher's window: the audit log's
    longer history (for dormant-delegate) is cut at the other logs' start."""
    write_synthetic(generate("small", seed=0), out)  # as `mailwarden synth --size small`
    start = json.loads((out / "labels.json").read_text(encoding="utf-8"))["window"]["start"]
    ual = out / "logs" / "ual.json"
    lines = ual.read_text(encoding="utf-8").splitlines(keepends=True)
    ual.write_text("".join(line for line in lines
                           if json.loads(line)["CreationTime"] >= start.rstrip("Z")),
                   encoding="utf-8")
    return out


def test_sigkill_between_storing_and_sending_sends_each_once(tmp_path: Path) -> None:
    source = synth(tmp_path / "tenant")
    expected_ids = source_record_ids(source)
    assert len(expected_ids) == len(set(expected_ids)) > 1000
    with receiver() as (inbox, base):
        routing = write_routing(tmp_path / "routing.yaml", base)
        killed = Watcher(source=source, state=tmp_path / "state", routing=routing)
        clean = Watcher(source=source, state=tmp_path / "clean", routing=routing)

        # Phase one: killed while its first delivery is held open.
        inbox.hold_next = True
        process = killed.start()
        try:
            assert inbox.holding.wait(TIMEOUT), "the watcher sent nothing"
            os.kill(process.pid, signal.SIGKILL)
            assert process.wait(TIMEOUT) == -signal.SIGKILL
        finally:
            stop(process)
            inbox.release.set()
        assert inbox.taken() == []
        stored = outbox_of(killed.state)["deliveries"]
        assert stored and {d["status"] for d in stored.values()} == {"stored"}
        stored_keys = sorted(d["key"] for d in stored.values())
        assert not (killed.state / DIRECTORY_CHECKPOINT).exists()  # the checkpoint held
        assert killed.log.read_text(encoding="utf-8") == ""  # no cycle completed
        assert Counter(window_ids(killed.state)) == Counter(expected_ids)

        # Phase two: the restart sends exactly what was stored, each once, and keeps no
        # record twice though it reads them all again (the checkpoint had not moved).
        restarted = killed.run()
        resent = inbox.taken()
        resent_told = inbox.items()
        assert [k for k, n in Counter(resent).items() if n > 1] == []
        assert sorted(resent) == stored_keys
        assert restarted["deliveries_failed"] == 0
        assert restarted["deliveries_sent"] == len(stored_keys)
        assert restarted["records_new"] == len(expected_ids)
        assert restarted["records_written"] == 0
        assert Counter(window_ids(killed.state)) == Counter(expected_ids)
        outbox = outbox_of(killed.state)["deliveries"]
        assert {d["status"] for d in outbox.values()} == {"sent"}
        assert {d["attempts"] for d in outbox.values()} == {1}

        # The same as a run never killed, into a fresh state directory.
        once = clean.run()
        clean_keys = inbox.taken()
        assert once["deliveries_sent"] == len(clean_keys) and once["records_written"] > 0
        # The same notices told of (a first cycle's digest names its deliveries, and a
        # finding's names the time its run started, so the digests' own keys differ).
        assert sorted(map(what, inbox.items())) == sorted(map(what, resent_told))
        # Every incident the run raised was among them (the route matches everything).
        assert sum(k.startswith("incident:") for k in resent_told) == once["incidents_open"] > 0
        assert Counter(window_ids(clean.state)) == Counter(expected_ids)

        # Phase three: nothing new to read, nothing to send.
        quiet = killed.run()
        assert inbox.taken() == []
        assert (quiet["records_new"], quiet["deliveries_sent"]) == (0, 0)
        assert Counter(window_ids(killed.state)) == Counter(expected_ids)
