"""`mailwarden emulator --synthetic SIZE` served on loopback as a separate process, for tests
that run the production command line against it with nothing injected."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mailwarden.emulator import DEFAULT_CLIENT_SECRET
from mailwarden.synth import generate

TIMEOUT = 120.0


@dataclass(frozen=True, slots=True, kw_only=True)
class ServedEmulator:
    base_url: str
    ca_file: Path
    tenant_id: str

    def connection(self, client_id: str = "session-test") -> list[str]:
        """The connection options of a command that reaches the served tenant."""
        base = self.base_url
        return ["--tenant", self.tenant_id, "--client-id", client_id, "--login-url", base,
                "--graph-url", base, "--exo-url", base, "--ca-bundle", str(self.ca_file)]


def mailwarden(*args: str, secret: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `mailwarden ARGS` as a process (the client secret in its environment unless
    `secret` is False)."""
    env = {k: v for k, v in os.environ.items() if k != "MAILWARDEN_CLIENT_SECRET"}
    if secret:
        env["MAILWARDEN_CLIENT_SECRET"] = DEFAULT_CLIENT_SECRET
    return subprocess.run([sys.executable, "-m", "mailwarden", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, check=False, env=env)


def _first_line(process: subprocess.Popen[str], timeout: float = 60.0) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            return process.stdout.readline().strip()
        if process.poll() is not None:
            break
    stderr = process.stderr.read() if process.stderr else ""
    raise AssertionError(f"the emulator printed no base URL: {stderr}")


#: Runs a command at a lower priority: the heavy processes of a test (a fleet's emulator
#: and workers) then leave the CPU to the other tests running beside them.
NICE = ("nice", "-n", "10")


@contextmanager
def emulator_process(source: list[str], ca_file: Path, *,
                     nice: bool = False) -> Iterator[str]:
    """`mailwarden emulator SOURCE --port 0 --ca-out CA_FILE` as a process (at a lower
    priority with `nice`); yields the base URL it prints first, and stops it when the block
    ends."""
    with subprocess.Popen(
        [*(NICE if nice else ()), sys.executable, "-m", "mailwarden", "emulator", *source,
         "--port", "0", "--ca-out", str(ca_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as process:
        try:
            base_url = _first_line(process)
            assert base_url.startswith("https://127.0.0.1:"), base_url
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def served_emulator(directory: Path, *, size: str = "small", seed: int = 0,
                    options: Sequence[str] = ()) -> Iterator[ServedEmulator]:
    """The synthetic tenant of `size` and `seed` (with its logs), served until the block ends;
    `options` are more `mailwarden emulator` options (e.g. --graph-permissions)."""
    tenant_id = str(generate(size, seed=seed).recorded.data["tenant"]["tenantId"])
    ca_file = directory / "emulator-ca.pem"
    source = ["--synthetic", size, "--seed", str(seed), *options]
    with emulator_process(source, ca_file) as base_url:
        yield ServedEmulator(base_url=base_url, ca_file=ca_file, tenant_id=tenant_id)
