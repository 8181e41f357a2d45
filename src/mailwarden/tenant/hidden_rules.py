"""Which inbox rules of a recorded tenant Exchange hides.

Get-InboxRule leaves hidden rules out unless it is given `-IncludeHidden`
(https://learn.microsoft.com/powershell/module/exchangepowershell/get-inboxrule). Its
output has no property that says a rule is hidden: tools find them as the rules that
appear only with the switch. So `exo/Get-InboxRule.json` holds every rule, as
`Get-InboxRule -IncludeHidden` returns them, and a tenant that is to be *served* (the
synthetic ones) marks the hidden rows with the instance annotation below. The emulator
leaves marked rows out unless the call asks for hidden rules, and takes the mark off every
row it returns; the readers ignore it, as they ignore every annotation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: `true` on a Get-InboxRule row that Exchange hides.
HIDDEN_RULE = "@mailwarden.hidden"


def is_hidden_rule(row: Mapping[str, Any]) -> bool:
    return row.get(HIDDEN_RULE) is True


def without_mark(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row as Exchange returns it."""
    return {key: value for key, value in row.items() if key != HIDDEN_RULE}
