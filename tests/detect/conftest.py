"""Finds the shared public log samples for the detection tests."""

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"


@pytest.fixture(scope="session")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"public log samples not found at {SAMPLES.resolve()} (shared/samples "
                    "beside the repository)")
    return SAMPLES.resolve()
