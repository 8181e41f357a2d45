"""Beta paths: not in the v1.0 CSDL, so each one the code uses is listed here with
Microsoft's documentation for the path and for the properties the code names or the
emulator serves.

`BETA` is what `test_requests` holds every beta request to (a beta path it lacks fails
there); the tests here hold the emulator's beta answers to the same documented
properties, and keep the table honest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.conformance.conform import query_properties
from tests.conformance.traffic import recorded_calls


@dataclass(frozen=True, slots=True)
class BetaResource:
    """A beta path the code uses, the properties Microsoft documents for what it returns
    (nested ones as "parent/child"), and where that is documented."""

    resource: str
    properties: tuple[str, ...]
    evidence: tuple[str, ...]
    note: str = ""


_DIRECTORY_SETTING = BetaResource(
    resource="directorySetting",
    properties=("id", "displayName", "templateId", "values", "values/name", "values/value"),
    evidence=(
        "https://learn.microsoft.com/graph/api/resources/directorysetting?view=graph-rest-beta",
        "https://learn.microsoft.com/graph/api/directorysetting-list?view=graph-rest-beta",
        "https://learn.microsoft.com/graph/api/directorysetting-update?view=graph-rest-beta",
        "https://learn.microsoft.com/graph/api/resources/settingvalue?view=graph-rest-beta",
    ),
    note="Smart lockout's 'Password Rule Settings' (template 5cf42378-d67d-4f36-ba46-"
    "e8b86229381d) is a directory setting; the docs add that v1.0 names this resource "
    "groupSetting (/groupSettings).",
)
#: Beta paths (ids as "{}"), with the evidence that they and their properties exist. The
#: audit log query API is not here: `security/auditLog/queries` is in the v1.0 CSDL and in
#: the v1.0 docs (https://learn.microsoft.com/graph/api/resources/security-auditcoreroot?
#: view=graph-rest-1.0 lists "Create audit log query"); one public collector reports
#: POST /v1.0/security/auditLog/queries answering 404 on its tenant in 2026
#: (rknightion/graph2otel, internal/collectors/m365/unifiedaudit/unifiedaudit_test.go).
BETA: dict[str, BetaResource] = {
    "/settings": _DIRECTORY_SETTING,
    "/settings/{}": _DIRECTORY_SETTING,
}


def template(path: str) -> str:
    """A concrete path as `BETA` keys it: ids and placeholders become "{}"."""
    segments = path.split("/")
    return "/".join(s if i < 2 else "{}" for i, s in enumerate(segments))


def beta_problems(label: str, path: str, query: dict[str, str], body: object) -> list[str]:
    entry = BETA.get(template(path))
    if entry is None:
        return [f"{label}: a beta path with no evidence in BETA; add the documentation that "
                "shows the path and its properties exist"]
    names = [name for _, name in query_properties(query)]
    if isinstance(body, dict):
        names += list(body)
        for key, value in body.items():
            for item in value if isinstance(value, list) else []:
                names += [f"{key}/{inner}" for inner in item if isinstance(item, dict)]
    return [f"{label}: {name!r} is not a documented property of beta {entry.resource}"
            for name in names if name not in entry.properties]


def _served_names(item: Mapping[str, Any]) -> list[str]:
    names = []
    for key, value in item.items():
        if key.startswith("@") or "@odata." in key:
            continue
        names.append(key)
        for inner in value if isinstance(value, list) else []:
            if isinstance(inner, dict):
                names += [f"{key}/{name}" for name in inner]
    return names


def test_every_beta_path_has_documentation_for_it() -> None:
    for path, entry in BETA.items():
        assert path.startswith("/") and entry.properties, path
        assert entry.evidence and all(
            url.startswith("https://learn.microsoft.com/") for url in entry.evidence), path


def test_beta_answers_of_the_emulator_hold_only_documented_properties() -> None:
    beta = [call for call in recorded_calls() if call.version == "beta"]
    assert {call.path for call in beta} >= {"/settings"}
    problems = []
    for call in beta:
        entry = BETA.get(template(call.path))
        assert entry is not None, f"{call}: a beta path with no evidence in BETA"
        if call.status >= 400 or not isinstance(call.answer, dict):
            continue
        items = call.answer.get("value") if "value" in call.answer else [call.answer]
        for index, item in enumerate(items or ()):
            problems += [f"{call} [{index}]: {name!r} is not a documented property of "
                         f"beta {entry.resource}"
                         for name in _served_names(item) if name not in entry.properties]
    assert problems == []


def test_an_undocumented_beta_name_is_caught() -> None:
    assert beta_problems("x", "/settings", {"$select": "id,value"}, None)
    assert beta_problems("x", "/settings/abc", {}, {"values": [{"name": "a", "val": "b"}]})
    assert beta_problems("x", "/directorySettings", {}, None)
    assert beta_problems("x", "/settings", {"$select": "id,displayName,templateId,values"},
                         None) == []
