"""`mailwarden watch --tenant ...` as a process with nothing injected, against the emulator
served on loopback: one cycle with --once, and two cycles in one process, which reuse the
watcher's one session (event loop, token source, HTTP client) across cycles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.peers import http_server
from tests.support.served_emulator import ServedEmulator, mailwarden, served_emulator

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedEmulator]:
    with served_emulator(tmp_path_factory.mktemp("emulator")) as running:
        yield running


@pytest.fixture
def routing(tmp_path: Path) -> Iterator[Path]:
    """Every alert and failing finding goes to a JSON webhook on 127.0.0.1."""
    with http_server() as (_, base):
        path = tmp_path / "routing.yaml"
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
        yield path


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
