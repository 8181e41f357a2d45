"""The generator's working state: one random stream, the tenant's names, unique aliases."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from mailwarden.synth.constants import COLLECTED_AT
from mailwarden.synth.ids import domain_sid, new_guid

#: Mailboxes created after this date are named by their directory object id, the way
#: Exchange Online names new recipients; older ones keep their alias as Name.
GUID_NAMES_SINCE = datetime(2022, 9, 1, tzinfo=COLLECTED_AT.tzinfo)


class Context:
    """Mutable builder state shared by the generation steps (never leaves the package)."""

    __slots__ = ("_next_rid", "_used", "domain", "exo_sid", "forest", "initial_domain", "rng")

    def __init__(self, rng: random.Random, domain: str, initial_domain: str) -> None:
        self.rng = rng
        self.domain = domain
        self.initial_domain = initial_domain
        self.forest = f"{rng.choice(('EURPR', 'NAMPR', 'APCPR', 'GBRPR'))}0{rng.randrange(1, 9)}A" \
            f"{rng.randrange(100, 999)}"
        self.exo_sid = domain_sid(rng)
        self._next_rid = rng.randrange(1_000_000, 2_000_000)
        self._used: set[str] = set()

    def guid(self) -> str:
        return new_guid(self.rng)

    def sid(self) -> str:
        """The next security identifier in this tenant's forest; each is handed out once,
        so a SID kept for a deleted object matches nothing else."""
        self._next_rid += self.rng.randrange(1, 40)
        return f"{self.exo_sid}-{self._next_rid}"

    def alias(self, wanted: str) -> str:
        """`wanted`, or `wanted` with the smallest number that makes it unique."""
        candidate = wanted
        number = 1
        separator = "" if wanted[-1:].isalpha() else "-"
        while candidate in self._used:
            number += 1
            candidate = f"{wanted}{separator}{number}"
        self._used.add(candidate)
        return candidate

    def moment(self, start: datetime, end: datetime) -> datetime:
        """A whole-second instant in [start, end)."""
        span = int((end - start).total_seconds())
        return start + timedelta(seconds=int(self.rng.random() * max(span, 1)))

    def days_ago(self, low: float, high: float) -> datetime:
        return self.moment(COLLECTED_AT - timedelta(days=high), COLLECTED_AT - timedelta(days=low))
