"""What became of each journalled run, for `remediate show`: when, on which tenant, by whom,
how many actions ended how, and whether the run was rolled back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mailwarden.remediate.journal import EntryStatus, Journal, RunRecord

#: Entries whose change was made, in full or in part, so that a rollback has work to do.
_CHANGED = frozenset({
    EntryStatus.APPLIED, EntryStatus.FAILED, EntryStatus.PRIOR_RECORDED,
    EntryStatus.ROLLED_BACK, EntryStatus.ROLLBACK_FAILED,
})
#: How each latest entry is counted; an action with no entry was never started.
OUTCOME_NAMES = {
    EntryStatus.APPLIED: "applied",
    EntryStatus.ALREADY_DONE: "already-done",
    EntryStatus.FAILED: "failed",
    EntryStatus.PRIOR_RECORDED: "interrupted",
    EntryStatus.ROLLED_BACK: "rolled-back",
    EntryStatus.ROLLBACK_FAILED: "rollback-failed",
}
NOT_DONE = "not-done"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSummary:
    run_id: str
    started_at: datetime
    tenant_id: str
    tenant_name: str | None
    by: str | None
    actions: int
    counts: Mapping[str, int]  # outcome name -> actions whose latest entry says so
    rolled_back: str  # "yes", "partial (2 of 5)", "no", or "nothing to undo"

    @property
    def tenant(self) -> str:
        return f"{self.tenant_name} ({self.tenant_id})" if self.tenant_name else self.tenant_id

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "started_at": self.started_at.isoformat(),
            "tenant_id": self.tenant_id,
            "tenant_name": self.tenant_name,
            "by": self.by,
            "actions": self.actions,
            "outcomes": dict(self.counts),
            "rolled_back": self.rolled_back,
        }


def summarize(run: RunRecord) -> RunSummary:
    counts: Counter[str] = Counter()
    changed = back = 0
    for action in run.actions:
        entry = run.entries.get(action.id)
        if entry is None:
            counts[NOT_DONE] += 1
            continue
        counts[OUTCOME_NAMES[entry.status]] += 1
        if entry.status in _CHANGED and action.reversible:
            changed += 1
            back += entry.status is EntryStatus.ROLLED_BACK
    if not changed:
        rolled = "nothing to undo"
    elif back == changed:
        rolled = "yes"
    elif back:
        rolled = f"partial ({back} of {changed})"
    else:
        rolled = "no"
    return RunSummary(
        run_id=run.run_id, started_at=run.started_at, tenant_id=run.tenant_id,
        tenant_name=run.context.tenant_name, by=run.context.by, actions=len(run.actions),
        counts=dict(counts), rolled_back=rolled,
    )


def summaries(journal: Journal) -> list[RunSummary]:
    """Every journalled run, newest first."""
    runs = [summarize(journal.load(run_id)) for run_id in journal.run_ids()]
    return sorted(runs, key=lambda r: r.started_at, reverse=True)
