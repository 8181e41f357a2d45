"""Lets the detection tests import their record factory (pytest runs with
--import-mode=importlib) and finds the shared public log samples."""

import sys
from pathlib import Path

import pytest

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

SAMPLES = Path(__file__).resolve().parents[2] / ".." / "shared" / "samples"


@pytest.fixture(scope="session")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"public log samples not found at {SAMPLES.resolve()} (shared/samples "
                    "beside the repository)")
    return SAMPLES.resolve()
