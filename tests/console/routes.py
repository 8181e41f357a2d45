"""The console's routes as the cross-cutting tests (authorization matrix, hostile strings,
browser) see them: path templates filled with values from a seeded history, and the
allowances for pages that cannot show everything with that seeding."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType

from tests.console.seed import Seeded

PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
#: A path's first segment -> the seeded value its `{id}` names.
ID_OF = {"incidents": "incident_id", "exceptions": "exception_id", "reviews": "review_id",
         "runs": "run_id", "remediation": "request_id", "tenants": "tenant_id"}

#: Routes where an allowed GET may answer 404 with the seeded history; an entry for a route
#: the console does not serve is an unused allowance. A tests/console/test_access_*.py
#: module may add its own as `MISSING_OK`.
OWN_MISSING_OK: set[tuple[str, str]] = {
    # The plan is read from the tenant live: the tests' consoles connect to none.
    ("GET", "/remediation/plan/{tenant_id}"),
}


def access_modules() -> list[ModuleType]:
    return [importlib.import_module(f"tests.console.{path.stem}")
            for path in sorted(Path(__file__).parent.glob("test_access_*.py"))]


def missing_ok() -> set[tuple[str, str]]:
    allowed = set(OWN_MISSING_OK)
    for module in access_modules():
        allowed |= set(getattr(module, "MISSING_OK", ()))
    return allowed


def fill(path: str, seeded: Seeded, *, target: str | None = None) -> tuple[str, bool]:
    """`path` with its parameters filled from `seeded` (`{target}`: `target` when given);
    whether every parameter had a seeded value (a missing one is filled with "no-NAME")."""
    first = path.strip("/").split("/", 1)[0]
    complete = True

    def value(match: re.Match[str]) -> str:
        nonlocal complete
        name = match.group(1)
        if name == "target" and target is not None:
            return target
        key = ID_OF.get(first) if name == "id" else name
        if key in seeded.values:
            return seeded.values[key]
        complete = False
        return f"no-{name}"

    return PARAM.sub(value, path), complete
