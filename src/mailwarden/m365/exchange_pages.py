"""What an Exchange admin API page says besides its rows.

Every 200 answer of InvokeCommand carries `"@adminapi.warnings"`, an array that is present
and empty when there is nothing to say (declared `"adminapi.warnings@odata.type":
"#Collection(String)"`). A page can also carry errors about some of the objects it could
not return (`"@adminapi.errors"`, read the same way): its rows are then not the whole
answer. A page cut short by the cmdlet's own limit says so in a warning ("There are more
results available than are currently displayed. To view them, increase the value for the
ResultSize parameter."); while pages follow by `@odata.nextLink` that warning only means
the page size, so it counts as a loss only on the last page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

WARNINGS = "@adminapi.warnings"
ERRORS = "@adminapi.errors"
#: The start of Exchange's warning that the cmdlet returned only part of its results.
TRUNCATED = "there are more results available than are currently displayed"


def _texts(value: Any) -> tuple[str, ...]:
    """An annotation's strings: an array as declared, a lone string tolerated."""
    if isinstance(value, str):
        return (value,) if value.strip() else ()
    if isinstance(value, list):
        return tuple(str(item) for item in value if item not in (None, ""))
    return ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PageNotes:
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    has_next: bool = False

    @property
    def truncated(self) -> bool:
        """The cmdlet stopped short of its results, and no next page carries the rest."""
        return not self.has_next and any(TRUNCATED in w.lower() for w in self.warnings)


def page_notes(page: Mapping[str, Any]) -> PageNotes:
    return PageNotes(
        warnings=_texts(page.get(WARNINGS)),
        errors=_texts(page.get(ERRORS)),
        has_next=bool(page.get("@odata.nextLink")),
    )


def page_problem(cmdlet: str, notes: PageNotes) -> str | None:
    """Why a page that came back 200 is not a complete answer, or None when it is."""
    if notes.errors:
        shown = "; ".join(notes.errors[:3])
        more = f" (and {len(notes.errors) - 3} more)" if len(notes.errors) > 3 else ""
        return f"{cmdlet} answered with errors beside its rows: {shown}{more}"
    if notes.truncated:
        warning = next(w for w in notes.warnings if TRUNCATED in w.lower())
        return f"{cmdlet} returned only part of its results: {warning}"
    return None
