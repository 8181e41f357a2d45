"""A service a test needs (PostgreSQL, Redis) that is not there: skipped on a workstation,
a failure in CI (CI=true), where `.ci/services` starts every service the tests need."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing_service(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; in CI every service is started by .ci/services",
                    pytrace=False)
    pytest.skip(reason)
