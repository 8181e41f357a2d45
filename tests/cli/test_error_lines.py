"""What a person reads when a command fails: the production entry point, as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from mailwarden.emulator import serve_in_thread
from mailwarden.synth import generate


def test_a_wrong_secret_is_explained_in_full_even_when_it_is_a_word_of_the_advice(
    tmp_path: Path,
) -> None:
    synthetic = generate(60, seed=2)
    tenant_id = str(synthetic.recorded.data["tenant"]["tenantId"])
    env = {**os.environ, "MAILWARDEN_CLIENT_SECRET": "wrong", "COLUMNS": "300"}
    with serve_in_thread(synthetic.recorded) as served:
        done = subprocess.run(
            [sys.executable, "-m", "mailwarden", "collect", "--tenant", tenant_id,
             "--client-id", "wrong-secret-test", "--login-url", served.base_url,
             "--graph-url", served.base_url, "--exo-url", served.base_url,
             "--ca-bundle", str(served.ca_file), "--out", str(tmp_path / "t"), "--quiet"],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )
    assert done.returncode != 0
    error = " ".join(done.stderr.split())
    assert error.startswith("error: could not get a token"), done.stderr
    # The secret is taken out of what the service quoted, never out of the advice.
    assert "Fix: the client secret is wrong: copy the secret's value (not its id)" in error
    assert "Traceback" not in done.stderr


def test_brackets_in_an_error_message_are_printed_as_they_are(tmp_path: Path) -> None:
    missing = tmp_path / "[draft] settings.toml"
    done = subprocess.run(
        [sys.executable, "-m", "mailwarden", "collect", "--tenant", "t", "--client-id", "c",
         "--config", str(missing), "--out", str(tmp_path / "t")],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "300"}, timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert f"{missing}: settings file not found" in done.stderr
