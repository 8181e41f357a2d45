"""A tenant's posture in one number, and the risk bands every output groups mailboxes in.

Posture score (0-100, higher is better): 100 minus the mean risk score of the tenant's
ownerless mailboxes (`assess.risk`: each mailbox's exposure, 0-100), rounded; 100 when
there is none. It moves when any mailbox's exposure does, by as much as that mailbox's
share: fixing the riskiest mailbox of ten raises it by a tenth of that mailbox's score.
Runs store it (`runs.summary["posture_score"]`) so its history is read without the runs'
mailboxes; for a run stored before that, the same mean over its stored mailboxes is it.

Risk bands are the HTML report's "Mailboxes by risk score" buckets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mailwarden.assess.risk import ranked
from mailwarden.model.findings import MailboxAssessment

#: The bands, lowest first, as (label, lowest score, highest score).
RISK_BANDS: tuple[tuple[str, int, int], ...] = (
    ("0", 0, 0), ("1-24", 1, 24), ("25-49", 25, 49), ("50-74", 50, 74), ("75-100", 75, 100),
)


def risk_band(score: int) -> str:
    """The band a risk score falls in."""
    for label, low, high in RISK_BANDS:
        if low <= score <= high:
            return label
    return RISK_BANDS[-1][0] if score > 100 else RISK_BANDS[0][0]


def posture_from_scores(scores: Sequence[int]) -> int:
    """100 minus the mean of the mailboxes' risk scores; 100 with none."""
    if not scores:
        return 100
    return round(100 - sum(scores) / len(scores))


def posture_score(assessments: Sequence[MailboxAssessment]) -> int:
    return posture_from_scores([a.risk_score for a in assessments])


def risk_ranks(assessments: Iterable[MailboxAssessment]) -> dict[str, int]:
    """Each mailbox's place in the one risk order (`assess.risk.ranked`), 1 the riskiest."""
    return {a.upn: n for n, a in enumerate(ranked(assessments), start=1)}
