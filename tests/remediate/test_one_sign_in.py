"""A person signs in once per command: `mailwarden remediate apply --device-code --tenant`
collects the tenant and applies the plan through one session, as a process with nothing
injected, against the emulator served on loopback (its device-code sign-in approves
itself after one pending poll, as a person entering the code would)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.served_emulator import ServedEmulator, mailwarden, served_emulator

pytestmark = pytest.mark.slow

#: In the instructions every device-code sign-in shows (Entra's wording, and the emulator's).
PROMPT = "enter the code"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedEmulator]:
    with served_emulator(tmp_path) as running:
        yield running


def test_apply_with_a_device_code_asks_the_person_once(served: ServedEmulator) -> None:
    done = mailwarden("remediate", "apply", "--device-code",
                      *served.connection("device-code-test"), secret=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(PROMPT) == 1, done.stderr
    assert "dry run: nothing is changed" in done.stderr
    assert "would-apply" in done.stdout  # the dry run reached the tenant
