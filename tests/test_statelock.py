"""One process per state folder: a second process is refused with the holder's pid, the
same process may hold a folder twice, and a holder that dies leaves no lock behind."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mailwarden.errors import StateInUseError
from mailwarden.statelock import LOCK_FILE, hold_folder

_HOLDER = """\
import sys
from pathlib import Path
from mailwarden.statelock import hold_folder
hold = hold_folder(Path(sys.argv[1]), hint="wait")
print("held", flush=True)
sys.stdin.read()  # until the test closes our stdin
hold.release()
"""


@contextmanager
def held_elsewhere(folder: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding `folder` until the block ends."""
    with subprocess.Popen([sys.executable, "-c", _HOLDER, str(folder)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None and process.stdin is not None
        try:
            assert process.stdout.readline() == "held\n"
            yield process
        finally:
            if process.poll() is None:
                process.stdin.close()  # the holder lets go and ends
            process.wait(timeout=60)


def refused(folder: Path) -> bool:
    """Whether another process is refused the folder now."""
    code = ("import sys; from pathlib import Path; from mailwarden.statelock import "
            "hold_folder; from mailwarden.errors import StateInUseError\n"
            "try:\n    hold_folder(Path(sys.argv[1]), hint='wait')\n"
            "except StateInUseError:\n    sys.exit(9)\n")
    result = subprocess.run([sys.executable, "-c", code, str(folder)], timeout=60, check=False)
    assert result.returncode in (0, 9)
    return result.returncode == 9


def test_a_second_process_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with held_elsewhere(state) as holder:
        with pytest.raises(StateInUseError) as raised:
            hold_folder(state, hint="use another --state-dir")
        assert str(raised.value) == (f"another mailwarden process is using {state} "
                                     f"(pid {holder.pid}); stop it or use another --state-dir")
        assert raised.value.exit_code == 2
    with hold_folder(state, hint="-"):  # the holder has gone: free again
        assert stat.S_IMODE((state / LOCK_FILE).stat().st_mode) == 0o600
        assert (state / LOCK_FILE).read_text(encoding="ascii") == f"{os.getpid()}\n"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700


def test_the_same_process_may_hold_a_folder_twice_until_both_let_go(tmp_path: Path) -> None:
    outer = hold_folder(tmp_path, hint="-")
    inner = hold_folder(tmp_path, hint="-")
    inner.release()
    inner.release()  # a second release of the same hold changes nothing
    assert refused(tmp_path)
    outer.release()
    assert not refused(tmp_path)


def test_a_holder_killed_outright_leaves_no_lock(tmp_path: Path) -> None:
    with held_elsewhere(tmp_path) as holder:
        assert refused(tmp_path)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=60)
        with hold_folder(tmp_path, hint="-"):
            pass
