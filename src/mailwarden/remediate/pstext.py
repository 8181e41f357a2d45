"""PowerShell spelling of values and of the small tests an exported script makes, shared by
the export and by the action kinds (each kind writes how a script reads and guards its own
change, `kinds.base.ScriptStep`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def quote(text: str) -> str:
    """A PowerShell single-quoted string ('' inside)."""
    return "'" + text.replace("'", "''") + "'"


def value_text(value: Any) -> str:
    if value is None:
        return "$null"
    if isinstance(value, bool):
        return "$true" if value else "$false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        parts = [f"{key} = {value_text(item)}" for key, item in value.items()]
        return "@{" + "; ".join(parts) + "}"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value) if value else "@()"
    return quote(str(value))


def select(command: str, properties: Sequence[str]) -> str:
    """`command` keeping only `properties`: what a state file needs, no more."""
    return f"{command} | Select-Object {', '.join(properties)}"


def differs(prop: str, wanted: Any) -> str:
    """True while `$state.<prop>` is not `wanted`. Comparisons put the state on the left,
    where PowerShell converts the literal to the property's type; a property that could not
    be read ($null) counts as different, so the change is made rather than skipped."""
    if wanted is None:
        return f"-not [string]::IsNullOrEmpty([string]$state.{prop})"
    return f"$state.{prop} -ne {value_text(wanted)}"


def lacks(prop: str, item: str) -> str:
    """True while the multi-valued `$state.<prop>` lacks `item` (compared without case)."""
    return f"@($state.{prop}) -notcontains {quote(item)}"


def any_differs(wanted: Mapping[str, Any]) -> str:
    return " -or ".join(f"({differs(p, v)})" if len(wanted) > 1 else differs(p, v)
                        for p, v in wanted.items())
