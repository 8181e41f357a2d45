"""What a mailbox's risk is made of: the active evidence against it, the factors of its
score, and its blast radius (what a taker of it reaches)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mailwarden.model.findings.results import Severity


class RiskTier(StrEnum):
    """The tier a mailbox ranks in; every mailbox of a tier ranks above every one below."""

    ACTIVE = "active"  # open evidence of high or critical severity: it is being abused now
    EXPOSED = "exposed"  # failing checks that still count, nothing seen happening
    NONE = "none"  # nothing counts against it

    @property
    def rank(self) -> int:
        """2 for active down to 0 for none: larger ranks first."""
        return _TIER_RANK[self]


_TIER_RANK = {RiskTier.ACTIVE: 2, RiskTier.EXPOSED: 1, RiskTier.NONE: 0}


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveEvidence:
    """Something seen happening on a mailbox, as risk reads it.

    Today one record stands for the run's alerts of one category on the mailbox; an
    incident (alerts grouped, with a lifecycle) is the same record: its worst severity, what
    happened, whether it is still open, and when."""

    source: str  # what the record was made from: "alerts" (later "incident")
    category: str  # what kind of thing happened, e.g. "leaver-access", "mass-send"
    severity: Severity
    summary: str  # what happened, one line (the worst, latest alert's summary)
    open: bool  # False once resolved: it no longer ranks the mailbox
    first_seen: datetime | None
    last_seen: datetime | None
    refs: tuple[str, ...] = ()  # the alert (or incident) ids behind it

    @property
    def active(self) -> bool:
        """Open, and high or critical: what puts a mailbox in the active tier."""
        return self.open and self.severity.rank >= Severity.HIGH.rank


class FactorEffect(StrEnum):
    COUNTED = "counted"  # a failing check that adds to the score
    NOT_COUNTED = "not-counted"  # a failing check whose precondition is fixed
    UNKNOWN = "unknown"  # a precondition nobody could read: counted, and said so
    FLOOR = "floor"  # a rule that lifts the score (a sprayable account scores at least 90)
    EVIDENCE = "evidence"  # open evidence: ranks the mailbox in the active tier


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskFactor:
    """One thing a mailbox's score or rank was made from, and what it did."""

    effect: FactorEffect
    name: str  # a check id, an evidence category, or the rule's name ("sprayable")
    severity: Severity | None
    detail: str  # why, in words: "not counted: sign-in is blocked"


@dataclass(frozen=True, slots=True, kw_only=True)
class BlastRadius:
    """What whoever takes the mailbox reaches beyond it; breaks ties between equal scores."""

    delegates: int = 0  # people with FullAccess, SendAs or SendOnBehalf (groups expanded)
    external: int = 0  # external forwarding targets plus guest or external delegates
    roles: int = 0  # directory roles the account holds or may activate

    def order(self) -> tuple[int, int, int]:
        """Larger is wider, compared delegates first, then external reach, then roles."""
        return self.delegates, self.external, self.roles
