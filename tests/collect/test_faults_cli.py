"""`mailwarden collect` as a process against `mailwarden emulator --faults 0.3 --throttle`
(a process too): whatever fails, a failed Exchange `$batch` request among it, the
collection finishes, writes the tenant with every failed part in errors.json, and exits
with the partial-result code (4)."""

from __future__ import annotations

import json
from pathlib import Path

from mailwarden.tenant.recorded import ALL_SOURCES, ERRORS_FILE, LIMITATIONS_FILE
from tests.support.served_emulator import mailwarden, served_emulator

#: The seed of the small tenant and of its faults. Fault decisions are fixed by the seed,
#: the route and how many requests that route had before: with this seed the first
#: Exchange `$batch` request meets a fault, and /organization and Get-Mailbox do not.
SEED = 7
#: One attempt a request, so that every fault the emulator injects is a failure the
#: collection must contain (the default six make one unlikely on a small tenant), and
#: short timeouts, so that the emulator's held answers cost seconds, not thirty.
SETTINGS = """\
connect_timeout = 3
read_timeout = 3

[retry]
max_attempts = 1
"""


def test_collect_under_faults_and_throttling_writes_what_it_read_and_exits_4(
    tmp_path: Path,
) -> None:
    config = tmp_path / "mailwarden.toml"
    config.write_text(SETTINGS, encoding="utf-8")
    out = tmp_path / "tenant"
    with served_emulator(tmp_path, seed=SEED, options=["--faults", "0.3", "--throttle"]) as s:
        done = mailwarden("collect", "--out", str(out), *s.connection(), "--config",
                          str(config), "--quiet")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert (out / "tenant.json").is_file()
    errors = json.loads((out / ERRORS_FILE).read_text(encoding="utf-8"))
    limitations = (json.loads((out / LIMITATIONS_FILE).read_text(encoding="utf-8"))
                   if (out / LIMITATIONS_FILE).exists() else {})
    # Every source is written, or in errors.json (limitations.json) saying why not.
    for source in ALL_SOURCES:
        written = (out / f"{source}.json").is_file()
        assert written or source in errors or source in limitations, source
        assert not (written and "error" in errors.get(source, {})), source
    # A failed batch request failed the mailboxes it carried, and only those: the
    # per-mailbox sources are written, with their failed mailboxes in errors.json.
    for source in ("exo/Get-MailboxPermission", "exo/Get-InboxRule"):
        assert (out / f"{source}.json").is_file(), errors.get(source)
        failed = errors[source]["mailboxes"]
        assert any("/$batch failed 1 time" in why for why in failed.values()), failed
    assert "wrote" in done.stdout and "failed" in done.stdout
