"""The outbox holds its state folder: a second process cannot open an outbox there while
the first has it open, and can once it is closed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mailwarden.errors import InputError
from mailwarden.notify import FileOutbox

_OPEN_OUTBOX = """\
import sys
from pathlib import Path
from mailwarden.errors import StateInUseError
from mailwarden.notify import FileOutbox
try:
    FileOutbox(Path(sys.argv[1])).close()
except StateInUseError as exc:
    print(exc)
    sys.exit(9)
"""


def open_in_another_process(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _OPEN_OUTBOX, str(path)], text=True,
                          capture_output=True, timeout=60, check=False)


def test_a_second_process_cannot_open_the_outbox_until_it_is_closed(tmp_path: Path) -> None:
    path = tmp_path / "state" / "notify-state.json"
    with FileOutbox(path) as outbox:
        outbox.store([], [])
        again = FileOutbox(path)  # the same process: allowed, and holds it too
        outbox.close()
        other = open_in_another_process(path)
        assert other.returncode == 9, other.stderr
        assert other.stdout.strip() == (
            f"another mailwarden process is using {path.parent} (pid {os.getpid()}); stop it "
            "or keep this state file in another folder")
        again.close()
    assert open_in_another_process(path).returncode == 0


def test_an_outbox_that_cannot_be_read_lets_go_of_the_folder(tmp_path: Path) -> None:
    path = tmp_path / "notify-state.json"
    path.write_text("not json", encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        FileOutbox(path)
    assert open_in_another_process(tmp_path / "other.json").returncode == 0


def test_the_lock_is_the_state_folders(tmp_path: Path) -> None:
    with FileOutbox(tmp_path / "a.json"):
        assert open_in_another_process(tmp_path / "b.json").returncode == 9
