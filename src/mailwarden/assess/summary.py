"""Data for a terminal summary: the riskiest mailboxes and how each can be taken."""

from __future__ import annotations

from dataclasses import dataclass

from mailwarden.assess.risk import ranked
from mailwarden.model.findings import (
    ActiveEvidence,
    AttackPath,
    BlastRadius,
    RiskFactor,
    RiskTier,
    ScanResult,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskyMailbox:
    rank: int  # 1 for the riskiest, as in every output
    upn: str
    kind: str
    tier: RiskTier
    risk_score: int
    failing: tuple[str, ...]
    paths: tuple[AttackPath, ...]
    custodian: str | None
    evidence: tuple[ActiveEvidence, ...]  # open and high or critical, worst first
    factors: tuple[RiskFactor, ...]
    blast: BlastRadius


def riskiest(result: ScanResult, limit: int = 10) -> tuple[RiskyMailbox, ...]:
    """The first `limit` mailboxes in risk order (`assess.risk.ranked`) that have anything
    against them: active evidence, or a score above zero."""
    order = ranked(result.assessments)
    return tuple(
        RiskyMailbox(
            rank=rank,
            upn=a.upn,
            kind=a.kind.value,
            tier=a.tier,
            risk_score=a.risk_score,
            failing=a.failing,
            paths=a.attack_paths,
            custodian=a.custodian.person if a.custodian else None,
            evidence=a.active_evidence,
            factors=a.factors,
            blast=a.blast,
        )
        for rank, a in enumerate(order, start=1)
        if a.tier is not RiskTier.NONE
    )[:limit]
