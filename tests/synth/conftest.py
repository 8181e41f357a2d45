"""Shared tenants for the generator tests; also lets them import synth_reference
(pytest runs with --import-mode=importlib)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mailwarden.synth import SyntheticTenant, generate, write_synthetic

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


@pytest.fixture(scope="session")
def small() -> SyntheticTenant:
    return generate("small", seed=0)


@pytest.fixture(scope="session")
def medium() -> SyntheticTenant:
    return generate("medium", seed=1)


@pytest.fixture(scope="session")
def small_dir(small: SyntheticTenant, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "tenant"
    write_synthetic(small, out)
    return out
