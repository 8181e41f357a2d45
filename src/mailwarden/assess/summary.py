"""Data for a terminal summary: the riskiest mailboxes and how each can be taken."""

from __future__ import annotations

from dataclasses import dataclass

from mailwarden.model.findings import AttackPath, MailboxAssessment, ScanResult


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskyMailbox:
    upn: str
    kind: str
    risk_score: int
    failing: tuple[str, ...]
    paths: tuple[AttackPath, ...]
    custodian: str | None


def riskiest(result: ScanResult, limit: int = 10) -> tuple[RiskyMailbox, ...]:
    """The `limit` highest-scoring mailboxes (ties: more failing checks, then UPN)."""

    def order(item: MailboxAssessment) -> tuple[int, int, str]:
        return (-item.risk_score, -len(item.failing), item.upn)

    chosen = sorted((a for a in result.assessments if a.risk_score > 0), key=order)[:limit]
    return tuple(
        RiskyMailbox(
            upn=a.upn,
            kind=a.kind.value,
            risk_score=a.risk_score,
            failing=a.failing,
            paths=a.attack_paths,
            custodian=a.custodian.person if a.custodian else None,
        )
        for a in chosen
    )
