"""Shared tenants for the generator tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailwarden.synth import SyntheticTenant, generate, write_synthetic


@pytest.fixture(scope="session")
def small() -> SyntheticTenant:
    return generate("small", seed=0)


@pytest.fixture(scope="session")
def medium() -> SyntheticTenant:
    return generate("medium", seed=1)


@pytest.fixture(scope="session")
def large() -> SyntheticTenant:
    """50,000 users: generated once for the slow tests that need it."""
    return generate("large", seed=0)


@pytest.fixture(scope="session")
def small_dir(small: SyntheticTenant, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "tenant"
    write_synthetic(small, out)
    return out
