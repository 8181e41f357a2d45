"""One run history for every command, run as processes with nothing injected: `scan`,
`report` and `watch` store their runs in the same default database, where `history` and
`diff` read them; the watcher's state folder holds no database; a state folder with the
history.db an earlier version kept there is pointed out once and left as it was; and the
commands that only read (`history`, `diff`, `alerts`) create nothing on a fresh machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mailwarden.store import list_runs, store_run
from mailwarden.store.engines import dispose_engines
from tests.report.report_factory import small_run
from tests.support.synthetic import PARTIAL
from tests.watch.watch_helpers import FIRST_CUT, routing, write_tenant
from tests.watch.watch_helpers import tenant as watched_tenant

TIMEOUT = 180.0


def mailwarden(*args: str, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, check=False, env=env)


def default_db() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "mailwarden" / "history.db"


def routing_path(tmp_path: Path) -> Path:
    routing(tmp_path)  # writes tmp_path/routing.yaml: one webhook nobody listens on
    return tmp_path / "routing.yaml"


def test_scan_report_and_watch_store_in_the_history_that_history_and_diff_read(
    tmp_path: Path
) -> None:
    tenant = write_tenant(tmp_path / "tenant", until=FIRST_CUT)
    state = tmp_path / "state"
    scanned = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "scan"))
    # The tenant plants checks that cannot tell: they are `error`, a partial result.
    expected = PARTIAL if watched_tenant().planted.unknown else 0
    assert scanned.returncode == expected, scanned.stderr
    assert "stored as run 1" in scanned.stdout
    reported = mailwarden("report", "--from-dir", str(tenant), "--out", str(tmp_path / "rep"))
    assert reported.returncode == expected, reported.stderr
    assert "stored as run 2" in reported.stdout
    watched = mailwarden("watch", "--once", "--from-dir", str(tenant), "--state-dir",
                         str(state), "--routing", str(routing_path(tmp_path)),
                         "--log-file", str(tmp_path / "watch.log"))
    assert watched.returncode == 0, watched.stderr
    (line,) = (json.loads(text) for text in
               (tmp_path / "watch.log").read_text(encoding="utf-8").splitlines())
    assert line["run_id"] == 3

    listed = mailwarden("history", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["id"] for r in json.loads(listed.stdout)] == [1, 2, 3]
    assert default_db().is_file()
    assert not (state / "history.db").exists()  # the state folder keeps no database
    drift = mailwarden("diff")
    assert drift.returncode == 0 and drift.stdout.startswith("run 2 "), drift.stderr
    # No --store: a scan that keeps nothing.
    kept = mailwarden("scan", "--from-dir", str(tenant), "--out", str(tmp_path / "again"),
                      "--no-store")
    assert kept.returncode == expected and "stored as run" not in kept.stdout, kept.stderr
    assert len(list_runs(str(default_db()))) == 3


def test_read_only_commands_on_a_fresh_machine_create_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "XDG_STATE_HOME": str(home / "state"), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}
    home.mkdir()
    expected = str(home / "data" / "mailwarden" / "history.db")
    listed = mailwarden("history", env=env)
    assert listed.returncode == 0, listed.stderr
    assert f"no history database at {expected} yet" in " ".join(listed.stdout.split())
    named = tmp_path / "elsewhere" / "team.db"
    drift = mailwarden("diff", "--db", str(named), env=env)
    assert drift.returncode == 2
    message = " ".join(drift.stderr.split())
    assert message.startswith(f"error: no history database at {named} yet"), message
    shown = mailwarden("alerts", "--all", env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"no history database at {expected} yet" in " ".join(shown.stdout.split())
    assert list(home.iterdir()) == []
    assert not named.parent.exists()


def test_a_state_folder_with_an_earlier_history_is_pointed_out_once_and_kept(
    tmp_path: Path
) -> None:
    tenant = write_tenant(tmp_path / "tenant", until=FIRST_CUT)
    state = tmp_path / "state"
    old = state / "history.db"
    store_run(small_run(), str(old))
    dispose_engines()
    args = ["watch", "--once", "--from-dir", str(tenant), "--state-dir", str(state),
            "--routing", str(routing_path(tmp_path)), "--log-file", str(tmp_path / "w.log")]

    first = mailwarden(*args)
    assert first.returncode == 0, first.stderr
    note = " ".join(first.stderr.split())
    assert f"note: {old} holds the runs an earlier version of watch stored" in note
    assert f"give --db {old} to watch, history and diff" in note
    assert str(default_db()) in note
    second = mailwarden(*args)
    assert second.returncode == 0 and "note:" not in second.stderr, second.stderr

    assert len(list_runs(str(old))) == 1  # left as it was
    # The second cycle found nothing changed: it names the first's run, stores no copy.
    assert len(list_runs(str(default_db()))) == 1
    # Pointing --db at it carries on with it, and says nothing.
    kept = mailwarden(*args, "--db", str(old))
    assert kept.returncode == 0 and "note:" not in kept.stderr, kept.stderr
    assert len(list_runs(str(old))) == 2
