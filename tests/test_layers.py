"""Imports point inward (README, Development: Layout). A package may import the ground floor
and the packages listed for it, nothing else of mailwarden's; imports inside functions
count too, so a shortcut through a lazy import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import mailwarden

PACKAGE = Path(mailwarden.__file__).parent
#: Shared helpers every layer may use: they import nothing above themselves.
GROUND = frozenset({"errors", "files", "times", "text", "progress", "schemas", "gcpause",
                    "statelock", "yamltext"})
ALLOWED: dict[str, frozenset[str]] = {
    "model": frozenset(),
    "tenant": frozenset({"model"}),
    "assess": frozenset({"model"}),
    "detect": frozenset({"model"}),
    "store": frozenset({"model", "report"}),
    "report": frozenset({"model", "assess", "detect"}),
    "synth": frozenset({"model", "tenant"}),
    "emulator": frozenset({"model", "tenant", "settings"}),
    "m365": frozenset({"settings"}),
    "collect": frozenset({"model", "tenant", "m365", "settings"}),
    "fleet": frozenset({"model", "store", "settings", "m365", "notify", "watch"}),
    # Below the console: the custodian's answer links reach notify as a function the
    # wiring (cli) makes, never by importing the console.
    "notify": frozenset({"model", "assess", "detect"}),
    "watch": frozenset({"model", "tenant", "m365", "collect", "detect", "report", "store",
                        "pipeline", "notify"}),
}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        else:
            continue
        names.update(m.split(".")[1] for m in modules
                     if m.startswith("mailwarden.") and m.count(".") >= 1)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_inward(package: str) -> None:
    allowed = ALLOWED[package] | GROUND | {package}
    stray = {
        f"{path.relative_to(PACKAGE)} imports mailwarden.{name}"
        for path in sorted((PACKAGE / package).rglob("*.py"))
        for name in _imported(path) - allowed
    }
    assert not stray, sorted(stray)


def test_the_ground_floor_imports_nothing_above_it() -> None:
    for name in sorted(GROUND):
        assert _imported(PACKAGE / f"{name}.py") <= GROUND, name
