"""Debian's Chromium driven by Playwright, for the tests that open a page in a browser (the
HTML report, the console). Missing: skipped on a workstation, a failure in CI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def launched_chromium() -> Iterator[Any]:
    """Yield a launched Chromium (a Playwright Browser); closed afterwards."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; bash .ci/chromium installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()
