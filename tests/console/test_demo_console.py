"""`mailwarden demo --console`: the demo, then the console on its history database, signed
in over HTTP with the URL it prints (as a process, nothing injected)."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx

from tests.console.browser import start


def test_demo_opens_the_console_on_its_history(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    running = start(["demo", "--console", "--console-port", "0", "--out", str(out), "-q"],
                    timeout=600)
    try:
        assert running.sign_in_url.startswith("http://127.0.0.1:")
        with httpx.Client(base_url=running.base_url) as client:
            signed = client.get(running.sign_in_url)
            assert signed.status_code == 303 and signed.headers["location"] == "/"
            home = client.get("/")
            assert home.status_code == 200
            assert "Adventure Works" in home.text  # the demo's tenant, from its history
    finally:
        code, stdout, stderr = running.stop(signal.SIGTERM)
    assert code == 0, stderr
    assert "demo finished" in stdout and "console stopped" in stderr
    assert (out / "history.db").exists()
