"""`.ci/services`: the URLs it prints point the tests at Redis and PostgreSQL; a URL already
set is kept as given and that service is left alone."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "services"


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], env={**os.environ, **env}, text=True,
                          capture_output=True, timeout=60, check=False)


def test_urls_already_set_are_kept_and_printed_for_eval() -> None:
    done = _run({"MAILWARDEN_TEST_REDIS_URL": "redis://127.0.0.1:1/0",
                 "MAILWARDEN_TEST_POSTGRES_URL": "postgresql+psycopg://u@127.0.0.1:2/x y",
                 # Ports nothing answers on: were they probed, a server would be started.
                 "MAILWARDEN_CI_REDIS_PORT": "1", "MAILWARDEN_CI_POSTGRES_PORT": "2"})
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    evaluated = subprocess.run(
        ["bash", "-c", 'eval "$1"; printf "%s\\n" "$MAILWARDEN_TEST_REDIS_URL" '
         '"$MAILWARDEN_TEST_POSTGRES_URL"', "-", done.stdout],
        text=True, capture_output=True, check=True)
    assert evaluated.stdout.splitlines() == ["redis://127.0.0.1:1/0",
                                             "postgresql+psycopg://u@127.0.0.1:2/x y"]


def test_the_ci_scripts_pass_shellcheck() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed")
    scripts = [str(SCRIPT.parent / name) for name in ("services", "run", "chromium")]
    done = subprocess.run(["shellcheck", *scripts], text=True, capture_output=True,
                          check=False)
    assert done.returncode == 0, done.stdout
