"""The conformance tests need Microsoft's Graph CSDL from the shared reference folder;
without it (a clone of the project alone) they are skipped, saying why."""

from __future__ import annotations

import pytest

from tests.conformance.csdl import ABSENT_REASON, METADATA, Schema, load


@pytest.fixture(scope="session")
def schema() -> Schema:
    if not METADATA.is_file():
        pytest.skip(ABSENT_REASON)
    return load()
