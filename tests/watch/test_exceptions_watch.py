"""`mailwarden watch --exceptions FILE` as a process: the cycle's stored run holds the
failing finding the file accepts as `accepted`."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from mailwarden.model.findings import Status
from mailwarden.pipeline import scan_directory
from mailwarden.store import History
from tests.watch.watch_helpers import FIRST_CUT, routing, write_tenant


def test_a_watch_cycle_applies_the_exceptions_file(tmp_path: Path) -> None:
    tenant = write_tenant(tmp_path / "tenant", until=FIRST_CUT)
    failing = next(f for f in scan_directory(tenant).result.findings
                   if f.status is Status.FAIL and f.resource.upn)
    expires = (datetime.now(UTC).date() + timedelta(days=30)).isoformat()
    exceptions = tmp_path / "exceptions.yaml"
    exceptions.write_text(
        f"exceptions:\n  - check: {failing.check_id}\n    mailbox: {failing.resource.upn}\n"
        f"    reason: accepted for the pilot\n    owner: secops@contoso.com\n"
        f"    expires: {expires}\n", encoding="utf-8")
    routing(tmp_path)
    db = tmp_path / "history.db"
    done = subprocess.run(
        [sys.executable, "-m", "mailwarden", "watch", "--once", "--from-dir", str(tenant),
         "--state-dir", str(tmp_path / "state"), "--routing", str(tmp_path / "routing.yaml"),
         "--log-file", str(tmp_path / "watch.log"), "--db", str(db),
         "--exceptions", str(exceptions)],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    (line,) = (json.loads(text) for text in
               (tmp_path / "watch.log").read_text(encoding="utf-8").splitlines())
    with History.open(str(db), create=False) as history:
        stored = history.load(int(line["run_id"]))
    key = (failing.check_id, failing.resource.upn)
    assert stored.findings[key].status is Status.ACCEPTED
