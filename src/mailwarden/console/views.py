"""Small pure shapes of stored data for the mailbox page: a finding's evidence in a few
lines, and the access map's rows with each delegate's last use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mailwarden.store.mailbox_detail import StoredUse
from mailwarden.store.mailbox_pages import DelegateRow

EVIDENCE_LINES = 6
VALUE_CHARS = 120


def _short(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(str(k) for k in list(value)[:4]) + (
            ", …}" if len(value) > 4 else "}")
    if isinstance(value, list | tuple):
        shown = ", ".join(_short(v) for v in value[:3])
        more = f" (+{len(value) - 3} more)" if len(value) > 3 else ""
        return f"{shown}{more}" if value else "none"
    text = "" if value is None else str(value)
    return text if len(text) <= VALUE_CHARS else text[:VALUE_CHARS - 1] + "…"


def evidence_summary(evidence: Mapping[str, Any]) -> tuple[str, ...]:
    """The first few fields of a finding's evidence, one line each, long values cut."""
    lines = [f"{key}: {_short(value)}" for key, value in list(evidence.items())[:EVIDENCE_LINES]]
    if len(evidence) > EVIDENCE_LINES:
        lines.append(f"(+{len(evidence) - EVIDENCE_LINES} more fields)")
    return tuple(lines)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessRow:
    delegate: DelegateRow
    use: StoredUse | None  # the grant's last use: the holder's own, or the group's


def _use_for(delegate: DelegateRow, usage: Sequence[StoredUse]) -> StoredUse | None:
    """The judged grant behind a delegate's right: theirs directly, else a group's they
    hold it through; the most recently used when several."""
    who = delegate.principal.lower()
    groups = {v.lower() for v in delegate.via if v != "direct"}
    mine = [u for u in usage if u.right == delegate.right
            and ((u.to.lower() == who and "direct" in delegate.via)
                 or (u.group and u.to.lower() in groups))]
    if not mine:
        return None
    return max(mine, key=lambda u: u.last_used.timestamp() if u.last_used else -1.0)


def access_rows(delegates: Sequence[DelegateRow], usage: Sequence[StoredUse]
                ) -> tuple[AccessRow, ...]:
    return tuple(AccessRow(delegate=d, use=_use_for(d, usage)) for d in delegates)
