"""`mailwarden watch --once`, run the way README.md says (a process of its own, nothing
injected), refuses a state folder another process holds, touching nothing in it, and
runs once the folder is free."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mailwarden.statelock import LOCK_FILE, hold_folder
from mailwarden.watch.cycle import OUTBOX_FILE
from tests.support.peers import http_server
from tests.watch.watch_helpers import FIRST_CUT, write_tenant


def test_watch_refuses_a_state_folder_another_process_holds(tmp_path: Path) -> None:
    source = write_tenant(tmp_path / "source", until=FIRST_CUT)
    state = tmp_path / "state"
    with http_server() as (web, base):
        routing = tmp_path / "routing.yaml"
        routing.write_text(f"channels:\n  hook:\n    type: json\n    url: {base}/hook\n"
                           "routes:\n  - channels: [hook]\n", encoding="utf-8")
        args = [sys.executable, "-m", "mailwarden", "watch", "--once", "--from-dir",
                str(source), "--state-dir", str(state), "--routing", str(routing)]

        def watch() -> subprocess.CompletedProcess[str]:
            return subprocess.run(args, capture_output=True, text=True, timeout=300,
                                  check=False)

        with hold_folder(state, hint="-"):
            refused = watch()
            assert refused.returncode == 2, refused.stderr
            assert (f"another mailwarden process is using {state} (pid {os.getpid()}); "
                    "stop it or use another --state-dir") in " ".join(refused.stderr.split())
            assert sorted(p.name for p in state.iterdir()) == [LOCK_FILE]
            assert web.bodies("/hook") == []

        ran = watch()
        assert ran.returncode == 0, ran.stderr
        assert (state / OUTBOX_FILE).exists() and web.bodies("/hook")
