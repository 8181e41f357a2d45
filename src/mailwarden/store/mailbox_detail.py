"""What a stored run keeps of each ownerless mailbox beyond its settings: its place in the
one risk order, its custodian, and `detail` (JSON): risk tier, failing checks, attack
paths, the evidence seen on it, its blast radius and when each grant on it was last used.

The console lists and shows mailboxes from these rows alone, without the run in memory;
`mailbox_rows` writes them, `read_detail` reads them back (a run stored before migration
0005 has no detail: it reads as empty).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailwarden.model.findings import GrantUse, MailboxAccess, MailboxAssessment, ScanResult
from mailwarden.report.posture import risk_ranks
from mailwarden.store.facts import mailbox_settings
from mailwarden.times import iso, parse_time


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPath:
    title: str
    severity: str
    steps: tuple[str, ...]

    @property
    def text(self) -> str:
        return " -> ".join(self.steps)


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredEvidence:
    category: str
    severity: str
    summary: str
    open: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredUse:
    """A grant's last use, as the access map shows it (`GrantUse.describe`)."""

    right: str
    to: str  # the holder: a user's UPN, a group's name
    group: bool
    state: str  # used | dormant | unknown
    last_used: datetime | None
    described: str
    window_days: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MailboxDetail:
    tier: str = "none"  # active | exposed | none
    failing: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    accepted: tuple[str, ...] = ()
    paths: tuple[StoredPath, ...] = ()
    evidence: tuple[StoredEvidence, ...] = ()
    blast: Mapping[str, int] | None = None  # delegates, external, roles
    usage: tuple[StoredUse, ...] = ()


def _use(use: GrantUse) -> dict[str, Any]:
    return {"right": use.right, "to": use.name or use.trustee, "group": use.kind.value == "group",
            "state": use.state.value, "last_used": iso(use.last_used) if use.last_used else None,
            "described": use.describe(), "window_days": use.window_days}


def detail_of(assessment: MailboxAssessment | None, access: MailboxAccess | None
              ) -> dict[str, Any]:
    """The `detail` JSON of one mailbox."""
    detail: dict[str, Any] = {"usage": [_use(u) for u in access.usage] if access else []}
    if assessment is None:
        return detail
    blast = assessment.blast
    return {
        **detail,
        "tier": assessment.tier.value,
        "failing": list(assessment.failing), "errors": list(assessment.errors),
        "accepted": list(assessment.accepted),
        "paths": [{"title": p.title, "severity": p.severity.value, "steps": list(p.steps)}
                  for p in assessment.attack_paths],
        "evidence": [{"category": e.category, "severity": e.severity.value,
                      "summary": e.summary, "open": e.open} for e in assessment.evidence],
        "blast": {"delegates": blast.delegates, "external": blast.external,
                  "roles": blast.roles},
    }


def mailbox_rows(result: ScanResult) -> list[dict[str, Any]]:
    """The `mailboxes` rows of a run: rank is the place in `ranked` (1 the riskiest)."""
    assessments = {a.upn: a for a in result.assessments}
    rank = risk_ranks(result.assessments)
    access = {a.upn: a for a in result.access}
    after = len(rank)
    rows = []
    for entry in result.inventory:
        assessment = assessments.get(entry.upn)
        if entry.upn not in rank:  # not assessed: after every assessed mailbox
            after += 1
            rank[entry.upn] = after
        rows.append({
            "upn": entry.upn, "kind": entry.kind.value, "display_name": entry.display_name,
            "account_id": entry.account_id,
            "risk_score": assessment.risk_score if assessment else 0,
            "settings": mailbox_settings(entry), "rank": rank[entry.upn],
            "custodian": entry.custodian.person if entry.custodian else None,
            "detail": detail_of(assessment, access.get(entry.upn)),
        })
    return rows


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def read_detail(value: Mapping[str, Any] | None) -> MailboxDetail:
    """A stored `detail` back; None (a run stored before migration 0005) reads as empty."""
    if not value:
        return MailboxDetail()
    blast = value.get("blast")
    return MailboxDetail(
        tier=str(value.get("tier") or "none"), failing=_strings(value.get("failing")),
        errors=_strings(value.get("errors")), accepted=_strings(value.get("accepted")),
        paths=tuple(StoredPath(title=str(p.get("title")), severity=str(p.get("severity")),
                               steps=_strings(p.get("steps")))
                    for p in value.get("paths") or ()),
        evidence=tuple(StoredEvidence(category=str(e.get("category")),
                                      severity=str(e.get("severity")),
                                      summary=str(e.get("summary") or ""),
                                      open=bool(e.get("open")))
                       for e in value.get("evidence") or ()),
        blast={k: int(v) for k, v in blast.items()} if isinstance(blast, dict) else None,
        usage=tuple(StoredUse(right=str(u.get("right")), to=str(u.get("to")),
                              group=bool(u.get("group")), state=str(u.get("state")),
                              last_used=parse_time(u.get("last_used")),
                              described=str(u.get("described") or ""),
                              window_days=int(u.get("window_days") or 0))
                    for u in value.get("usage") or ()),
    )
