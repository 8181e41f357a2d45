"""The console run for real, and a browser on it: the harness of the console's browser tests.

`mailwarden console` runs as a subprocess (local mode, a free port, the given --db) and
Debian's Chromium, driven by Playwright as tests/report/test_html.py does, signs in with
the URL it prints. Every console error, page error, Content-Security-Policy violation and
failed or 5xx request is recorded, and a test that leaves any fails; every visited page is
saved as a screenshot.

Use (the fixtures are in tests/console/conftest.py):

    def test_something(served: Served, browse: Browse) -> None:
        running = served(db_url)                # `mailwarden console --db URL --port 0`
        page = browse(running)                  # a new browser page, signed in as admin
        response = page.visit("/incidents")     # navigates, waits, saves a screenshot
        assert response.status == 200
        page.page.click("text=Acknowledge")     # the Playwright page, for anything else
        page.shot("after-ack")                  # another screenshot
        # at the end of the test: no console error, no CSP violation, no failed request

`served(db_url, *more_args)` also gives `running.sign_in_url`, `running.base_url`, and
`running.stop()` -> (exit code, stdout, stderr) for tests of the process itself. The
subprocess gets `LINK_KEY` as MAILWARDEN_CONSOLE_SECRET, so a test can issue custodian links
it opens (`LinkStore(history, LINK_KEY)`), and `browse(running, sign_in=False)` gives an
anonymous page (a custodian's browser).

Screenshots go to $MAILWARDEN_TEST_ARTIFACTS/console/<test>/NN-<page>.png, else under
pytest's temporary directory; the folder is printed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.console.support import LINK_KEY
from tests.support.chromium import launched_chromium

ARTIFACTS_ENV = "MAILWARDEN_TEST_ARTIFACTS"
START_TIMEOUT = 120.0
_REPORT_CSP = """
document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI);
});
"""


@dataclass(slots=True)
class RunningConsole:
    """A `mailwarden ...` process that printed a URL (the first stdout line that is one)."""

    process: subprocess.Popen[str]
    sign_in_url: str = ""
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    _readers: list[threading.Thread] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        match = re.match(r"https?://[^/]+", self.sign_in_url)
        assert match, self.sign_in_url
        return match.group(0)

    def stop(self, how: signal.Signals = signal.SIGTERM, timeout: float = 30.0
             ) -> tuple[int, str, str]:
        """Stop it with `how`; its exit code and everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for reader in self._readers:
            reader.join(timeout=timeout)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode, "".join(self.stdout), "".join(self.stderr)


def start(args: Sequence[str], *, env: dict[str, str] | None = None,
          timeout: float = START_TIMEOUT) -> RunningConsole:
    """Run `python -m mailwarden ARGS` and wait for the URL it prints."""
    environment = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1",
                   "MAILWARDEN_CONSOLE_SECRET": LINK_KEY, **(env or {})}
    process = subprocess.Popen([sys.executable, "-m", "mailwarden", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               encoding="utf-8", env=environment)
    running = RunningConsole(process=process)
    found = threading.Event()

    def read(stream: Any, into: list[str], look: bool) -> None:
        for line in stream:
            into.append(line)
            if look and not found.is_set() and line.startswith(("http://", "https://")):
                running.sign_in_url = line.strip()
                found.set()

    for stream, into, look in ((process.stdout, running.stdout, True),
                               (process.stderr, running.stderr, False)):
        reader = threading.Thread(target=read, args=(stream, into, look), daemon=True)
        reader.start()
        running._readers.append(reader)
    deadline = time.monotonic() + timeout
    while not found.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            code, out, err = running.stop()
            raise AssertionError(f"mailwarden {' '.join(args)} printed no URL (exit {code})"
                                 f"\nstdout:\n{out}\nstderr:\n{err}")
    return running


@dataclass(slots=True)
class ConsolePage:
    """A Playwright page on a running console, recording what went wrong."""

    page: Any
    base_url: str
    folder: Path
    problems: list[str] = field(default_factory=list)
    shots: int = 0

    def visit(self, path: str) -> Any:
        """Navigate to `path`, wait until it is loaded, save a screenshot; the response."""
        response = self.page.goto(self.base_url + path)
        self.page.wait_for_load_state("load")
        self.shot(path)
        return response

    def shot(self, name: str) -> Path:
        self.shots += 1
        slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:80] or "home"
        path = self.folder / f"{self.shots:02d}-{slug}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


def _watch(page: Any, problems: list[str]) -> None:
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: problems.append(f"{r.status} from {r.url}")
            if r.status >= 500 else None)


Served = Callable[..., RunningConsole]
Browse = Callable[..., ConsolePage]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One browser per test module: Playwright's synchronous API keeps an event loop running
    while it is open, and the in-process console clients of other modules need their own."""
    yield from launched_chromium()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get(ARTIFACTS_ENV)
    folder = Path(chosen) / "console" if chosen else tmp_path_factory.mktemp("artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"console screenshots: {folder}")
    return folder


@pytest.fixture
def served() -> Iterator[Served]:
    """`served(db_url, *args)`: `mailwarden console --db URL --port 0 --name "test admin"
    ARGS` running until the test ends."""
    running: list[RunningConsole] = []

    def make(db_url: str, *args: str) -> RunningConsole:
        console = start(["console", "--db", db_url, "--port", "0", "--name", "test admin",
                         *args])
        running.append(console)
        return console

    yield make
    for console in running:
        console.stop()


@pytest.fixture
def browse(chromium: Any, artifacts: Path, request: pytest.FixtureRequest
           ) -> Iterator[Browse]:
    """`browse(running, sign_in=True)`: a new page (own cookies) on that console, signed in
    with its printed URL unless `sign_in=False`. The test fails at teardown if any page
    recorded a problem."""
    opened: list[tuple[Any, ConsolePage]] = []
    folder = artifacts / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)

    def make(running: RunningConsole, *, sign_in: bool = True) -> ConsolePage:
        context = chromium.new_context()
        context.add_init_script(_REPORT_CSP)
        page = context.new_page()
        console_page = ConsolePage(page=page, base_url=running.base_url,
                                   folder=folder / f"page{len(opened) + 1}")
        console_page.folder.mkdir(exist_ok=True)
        _watch(page, console_page.problems)
        opened.append((context, console_page))
        if sign_in:
            page.goto(running.sign_in_url)
            page.wait_for_load_state("load")
            assert "/login" not in page.url, "the printed URL did not sign in"
        return console_page

    yield make
    problems = [p for _, page in opened for p in page.problems]
    for context, _ in opened:
        context.close()
    assert problems == [], problems
