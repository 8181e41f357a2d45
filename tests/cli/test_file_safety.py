"""Files and folders as the command line meets them: what a recorded tenant holds in
place of a file, and what already stands where an output goes. As subprocesses, the way
README.md runs them, with nothing injected."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.synthetic import assessed_code

#: Long enough for a scan of the small tenant on a busy machine, short of a hang.
PROMPTLY = 120


def mailwarden(*args: str, home: Path, env: dict[str, str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
                   "XDG_STATE_HOME": str(home / "state"), "XDG_CONFIG_HOME": str(home / "config"),
                   "COLUMNS": "300", **(env or {})}
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=PROMPTLY, check=False, env=environment)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("synthetic")
    out = base / "tenant"
    done = mailwarden("synth", "--size", "small", "--seed", "0", "--out", str(out), home=base)
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture
def tenant(synthetic: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "tenant"
    shutil.copytree(synthetic, copy)
    return copy


def scan(tenant: Path, out: Path, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    return mailwarden("scan", "--from-dir", str(tenant), "--out", str(out), "--quiet",
                      home=out.parent, env=env)


def error_text(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    return " ".join(done.stderr.split())


def test_a_fifo_in_place_of_a_source_is_refused_at_once(tenant: Path, tmp_path: Path) -> None:
    users = tenant / "graph" / "users.json"
    users.unlink()
    os.mkfifo(users)
    done = scan(tenant, tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert f"{users}: not a regular file (a FIFO)" in error_text(done)


def test_a_link_to_an_endless_device_is_refused_without_reading_it(
    tenant: Path, tmp_path: Path,
) -> None:
    users = tenant / "graph" / "users.json"
    users.unlink()
    users.symlink_to("/dev/zero")
    done = scan(tenant, tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert f"{users}: not a regular file (a device)" in error_text(done)


def test_a_directory_in_place_of_a_source_is_an_input_error(tenant: Path, tmp_path: Path) -> None:
    mailboxes = tenant / "exo" / "Get-Mailbox.json"
    mailboxes.unlink()
    mailboxes.mkdir()
    done = scan(tenant, tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert f"{mailboxes}: not a regular file (a directory)" in error_text(done)


def test_a_source_larger_than_the_input_limit_is_refused(tenant: Path, tmp_path: Path) -> None:
    done = scan(tenant, tmp_path / "out", env={"MAILWARDEN_MAX_INPUT_BYTES": "100000"})
    assert done.returncode == 2, done.stderr
    error = error_text(done)
    assert "larger than the 100000 bytes" in error and "MAILWARDEN_MAX_INPUT_BYTES" in error


def test_an_output_that_is_a_link_is_not_written_through(tenant: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("not mailwarden's\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "findings.json").symlink_to(elsewhere)
    done = scan(tenant, out)
    assert elsewhere.read_text(encoding="utf-8") == "not mailwarden's\n"
    assert done.returncode == 2, done.stderr
    assert f"{out / 'findings.json'}: is a symbolic link" in error_text(done)


def test_new_output_folders_are_private(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "today"
    done = scan(synthetic, out)
    assert done.returncode == assessed_code(synthetic), done.stderr
    for folder in (tmp_path / "reports", out):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    made = tmp_path / "made" / "tenant"
    done = mailwarden("synth", "--size", "small", "--seed", "0", "--out", str(made),
                      home=tmp_path)
    assert done.returncode == 0, done.stderr
    for folder in (made.parent, made, made / "graph", made / "exo", made / "logs"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
